import Foundation
import GRDB
import SyncCore

/// Erasure of one row everywhere (docs/PRIVACY.md, "Erasure").
///
/// HQ replaces the row by a tombstone that carries no values and whose version vector covers
/// every write HQ has seen, so each store that merges it deletes the row; it removes every
/// other copy it keeps (the feed's history, conflict records, dead letters; the SQL tables
/// and the golden record follow the tombstone), then empties the WAL. The store runs with
/// `secure_delete`, so nothing removed stays in freed pages. The key stays in `erasures`, so
/// a store that was offline and pushes the row again is refused, and sent the tombstone.
extension SQLiteSyncStore {
    public func erase(_ request: ErasureRequest) async throws -> ErasureStatus {
        let id = try await pool.write { db -> Int64 in
            let key = Data(request.key.bytes)
            if let existing = try Int64.fetchOne(
                db, sql: "SELECT id FROM erasures WHERE table_name = ? AND row_key = ?", arguments: [request.spec.name, key])
            {
                return -existing
            }
            var writer = try RowWriter(
                db: db, source: NodeID.hq.rawValue, atMillis: request.atMillis, maxRowBytes: Int.max, tables: try self.tables?.writer(db))
            guard let stored = try writer.storedVersion(request.spec.name, key)?.version else {
                throw StoreError(
                    kind: .notFound, message: "HQ has no row of table '\(request.spec.name)' with that key",
                    hint: "check the table and the key's values and types (`dealersync hq customers …` shows a customer's records and keys)")
            }
            var clock = try HQClock(db)
            let (dot, now) = clock.next(after: stored.latestHLC, wallMillis: request.atMillis)
            let tombstone = Self.erasureTombstone(of: stored, dot: dot, hlc: now)
            let sequence = try writer.replace(with: tombstone, spec: request.spec)
            try clock.save(db)
            try writer.finish()
            try db.execute(
                sql: "INSERT INTO erasures (table_name, row_key, requested_by, reason, requested_ms, feed_seq, tombstone) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [request.spec.name, key, request.requestedBy, request.reason, request.atMillis, sequence, Data(tombstone.canonicalBytes)])
            let id = db.lastInsertedRowID
            try db.execute(
                sql: """
                    INSERT INTO erasure_holders (erasure, dealer, feed_seq)
                    SELECT ?, dealer, ? FROM holders WHERE table_name = ? AND row_key = ?
                    """,
                arguments: [id, sequence, request.spec.name, key])
            return id
        }
        if id > 0 { try await removeCopies(of: id) }
        try await emptyWAL()
        var status = try await erasures(id: abs(id), limit: 1).first!
        status.created = id > 0
        return status
    }

    /// The row with no values left and a delete by HQ that follows every write in `stored`.
    static func erasureTombstone(of stored: RowVersion, dot: Dot, hlc: HLCTimestamp) -> RowVersion {
        var tombstone = stored
        tombstone.delete(dot: dot, hlc: hlc)
        tombstone.removeColumns(Set(tombstone.columns.keys))
        return tombstone
    }

    /// Deletes every copy of the erased row's values HQ keeps besides its rows: the feed's
    /// history, conflict records, dead letters. They are found on a reader (the feed has no
    /// index by row, and a scan of it must not hold up ingest), then deleted by id in one
    /// short write. An erasure whose copies are not removed yet (a crash in between) is
    /// done again by `scrubErasures`.
    func removeCopies(of erasure: Int64) async throws {
        let found = try await pool.read { db -> (feed: [Int64], conflicts: [Int64], deadLetters: [Int64])? in
            guard let row = try Row.fetchOne(db, sql: "SELECT table_name, row_key, feed_seq FROM erasures WHERE id = ?", arguments: [erasure]) else {
                return nil
            }
            let table: String = row["table_name"], keyBytes: Data = row["row_key"]
            let key = try RowKey(bytes: Array(keyBytes))
            // Entries after the erasure's own tombstone are tombstones too (a refused copy's).
            let feed = try Int64.fetchAll(
                db, sql: "SELECT seq FROM feed WHERE table_name = ? AND row_key = ? AND seq < ?", arguments: [table, keyBytes, row["feed_seq"] as Int64])
            let conflicts = try Int64.fetchAll(db, sql: "SELECT id FROM conflicts WHERE table_name = ? AND row_key = ?", arguments: [table, keyBytes])
            // Dead letters keep the version as pushed: an `up` row under the store's own key.
            var letters: [Int64] = []
            for letter in try Row.fetchAll(db, sql: "SELECT id, dealer, version FROM dead_letters WHERE table_name = ?", arguments: [table]) {
                guard let version = try? RowVersion(canonicalBytes: Array(letter["version"] as Data)) else { continue }
                let dealer = try? NodeID(letter["dealer"] as String)
                if version.key == key || dealer.map({ RowValidator.upKey(dealer: $0, key: version.key) == key }) == true {
                    letters.append(letter["id"])
                }
            }
            return (feed, conflicts, letters)
        }
        guard let found else { return }
        try await pool.write { db in
            for (table, column, ids) in [("feed", "seq", found.feed), ("conflicts", "id", found.conflicts), ("dead_letters", "id", found.deadLetters)] {
                for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
                    try db.execute(
                        sql: "DELETE FROM \(table) WHERE \(column) IN (\(chunk.map { _ in "?" }.joined(separator: ", ")))",
                        arguments: StatementArguments(chunk))
                }
            }
            try db.execute(sql: "UPDATE erasures SET copies_removed_ms = ? WHERE id = ?", arguments: [Date.nowMillis, erasure])
        }
    }

    /// Rewrites HQ's files when an erasure happened since the last rewrite (the retention
    /// pass runs it): the erasure removed the row's values at once, and this removes what
    /// page rebalancing may have left of them in unused space. Returns the erasures it covered.
    @discardableResult
    public func scrubErasures(nowMillis: Int64) async throws -> Int {
        guard let last = try await pool.read({ db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM erasures WHERE scrubbed_ms IS NULL") }) else {
            return 0
        }
        for unfinished in try await pool.read({ db in try Int64.fetchAll(db, sql: "SELECT id FROM erasures WHERE copies_removed_ms IS NULL") }) {
            try await removeCopies(of: unfinished)
        }
        try await rewriteFiles()
        return try await pool.write { db in
            try db.execute(sql: "UPDATE erasures SET scrubbed_ms = ? WHERE scrubbed_ms IS NULL AND id <= ?", arguments: [nowMillis, last])
            return db.changesCount
        }
    }

    /// Erasures, newest first (`id`: only that one).
    public func erasures(id: Int64? = nil, limit: Int) async throws -> [ErasureStatus] {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, table_name, row_key, requested_by, reason, requested_ms, feed_seq, scrubbed_ms FROM erasures
                    WHERE ? IS NULL OR id = ? ORDER BY id DESC LIMIT ?
                    """,
                arguments: [id, id, max(1, limit)])
            return try rows.map { row in
                let erasure: Int64 = row["id"]
                let feedSequence: Int64 = row["feed_seq"]
                // A holder confirms by pulling past the tombstone it was sent.
                let holders = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT h.dealer, COALESCE(p.pulled_seq, 0) >= h.feed_seq AS confirmed
                        FROM erasure_holders h LEFT JOIN principals p ON p.id = h.dealer
                        WHERE h.erasure = ? ORDER BY h.dealer
                        """,
                    arguments: [erasure]
                ).map { ErasureStatus.Holder(dealer: $0["dealer"], confirmed: $0["confirmed"]) }
                let key = try RowKey(bytes: Array(row["row_key"] as Data))
                return ErasureStatus(
                    id: erasure, table: row["table_name"],
                    keyJSON: String(decoding: try JSONEncoder.sorted.encode(key.values.map(TypedValue.init)), as: UTF8.self),
                    requestedBy: row["requested_by"], reason: row["reason"], requestedAtMillis: row["requested_ms"],
                    feedSequence: UInt64(feedSequence), holders: holders, scrubbedAtMillis: row["scrubbed_ms"], created: false)
            }
        }
    }

    /// The erasure of `table`'s row under `key`, if it was erased: its id and tombstone.
    static func erasure(_ db: Database, table: String, key: Data) throws -> (id: Int64, tombstone: RowVersion)? {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT id, tombstone FROM erasures WHERE table_name = ? AND row_key = ?"), arguments: [table, key])
        else { return nil }
        return (row["id"], try RowVersion(canonicalBytes: Array(row["tombstone"] as Data)))
    }

    /// Whether a pushed version of an erased key is a copy of the erased row (refused) rather
    /// than a row created anew under the same key (merged as usual): a copy comes from a store
    /// that has not seen the erasure and shares the erased row's origin or any of its writes.
    /// A store that applied the erasure and then creates the key again has seen it; a store
    /// that never held the row creates it with an origin and writes of its own.
    static func isStaleCopy(_ pushed: RowVersion, of erasure: (id: Int64, tombstone: RowVersion)) -> Bool {
        let tombstone = erasure.tombstone
        let erasedBy = tombstone.liveness.map(\.dot)
        if erasedBy.contains(where: { pushed.versionVector.covers($0) }) { return false }
        if pushed.origin == tombstone.origin { return true }
        let writes = pushed.liveness.map(\.dot) + pushed.columns.values.flatMap { $0.map(\.dot) }
        return writes.contains { tombstone.versionVector.covers($0) }
    }

    /// A dead letter of an erased key's row: not stored (its values are the erased ones).
    static func isErasedLetter(_ letter: DeadLetter, from dealer: NodeID, _ db: Database) throws -> Bool {
        guard let version = try? RowVersion(canonicalBytes: letter.versionBytes) else { return false }
        for key in [version.key, RowValidator.upKey(dealer: dealer, key: version.key)] {
            if try erasure(db, table: letter.table, key: Data(key.bytes)) != nil { return true }
        }
        return false
    }

    /// The indexes of `page`'s erasure tombstones, which the pull answer names so the store
    /// scrubs (only HQ can say so; a dealer's own delete never counts as an erasure).
    static func erasureTombstones(_ db: Database, in page: [RowVersion]) throws -> [Int] {
        var erased: [Int] = []
        for (index, version) in page.enumerated() where version.columns.isEmpty && !version.liveness.contains(where: \.alive) {
            if try erasure(db, table: version.table, key: Data(version.key.bytes)) != nil { erased.append(index) }
        }
        return erased
    }

    /// A store pushed a copy of an erased row (it was offline, or had not pulled the erasure
    /// yet): the row is not merged, and HQ writes a new tombstone that also covers the pushed
    /// writes, so the store's merge deletes its copy; the store becomes one of the erasure's
    /// holders, confirming by pulling past that tombstone.
    static func refuseErased(
        _ pushed: RowVersion, spec: TableSpec, from dealer: NodeID, erasure: (id: Int64, tombstone: RowVersion), _ writer: inout RowWriter,
        _ db: Database, atMillis: Int64
    ) throws {
        let key = Data(pushed.key.bytes)
        // Retention may have dropped the row's tombstone once every holder had it.
        let stored = try writer.storedVersion(spec.name, key)
        var seen = stored?.version ?? erasure.tombstone
        seen.versionVector = seen.versionVector.merging(pushed.versionVector)
        var clock = try HQClock(db)
        let (dot, now) = clock.next(after: max(seen.latestHLC, pushed.latestHLC), wallMillis: atMillis)
        let tombstone = erasureTombstone(of: seen, dot: dot, hlc: now)
        let sequence = try writer.replace(with: tombstone, spec: spec)
        try clock.save(db)
        // The tombstone this one replaces leaves the feed (by its sequence: the feed has no
        // index by row, and this runs inside a push's transaction).
        if let previous = stored?.sequence { try db.execute(sql: "DELETE FROM feed WHERE seq = ?", arguments: [previous]) }
        try db.execute(
            sql: "INSERT INTO holders (dealer, table_name, row_key, known_seq) VALUES (?, ?, ?, 0) ON CONFLICT DO UPDATE SET known_seq = 0",
            arguments: [dealer.rawValue, spec.name, key])
        try db.execute(
            sql: """
                UPDATE erasures SET tombstone = ? WHERE id = ?;
                INSERT INTO erasure_holders (erasure, dealer, feed_seq) VALUES (?, ?, ?)
                ON CONFLICT DO UPDATE SET feed_seq = excluded.feed_seq
                """,
            arguments: [Data(tombstone.canonicalBytes), erasure.id, erasure.id, dealer.rawValue, sequence])
    }
}
