import Foundation
import GRDB
import SyncCore

/// The embedded HQ store: one SQLite file in WAL mode through a GRDB `DatabasePool`.
///
/// Readers never block the writer, and GRDB runs one write transaction at a time, which is
/// what keeps feed sequences gap-free and in commit order: each push reads the highest
/// sequence and appends after it inside its own transaction.
///
/// Tables (see `SQLiteMigrations`): `principals` (dealers, readers, writers, token hashes),
/// `rows` (current merged version per row, its latest feed sequence and routed dealer),
/// `feed` (every merged change), `holders` (which dealer holds which row, and the sequence
/// it already has), `batches` (acknowledged pushes and their receipts), `dead_letters`,
/// `conflicts`, `hq_clock` (HQ's own counter and HLC).
public final class SQLiteSyncStore: SyncStore {
    let pool: DatabasePool
    /// HQ's SQL tables, kept with every merge; nil when not configured.
    let tables: HQTables?
    let tablesPath: String?

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    /// With `tables` (a file path and the sync schema), HQ's SQL tables live in that file,
    /// attached as `hq_tables` to every connection (docs/HQ-TABLES.md).
    /// `maxTableColumns`: most columns a learned table gets (`limits.max_table_columns`).
    public init(path: String, tables: (path: String, schema: SyncSchema)? = nil, maxTableColumns: Int = 500) throws {
        try StoreFile.prepare(path: path)
        if let tables { try StoreFile.prepare(path: tables.path) }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // FULL: a push is acknowledged after commit and the agent then deletes its copy, so
            // the commit must survive a power cut too (NORMAL in WAL mode may lose the last ones).
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // Freed space is overwritten with zeros: a value that retention, an erasure or a
            // stricter column policy removes is gone from the file too (docs/PRIVACY.md).
            // Newly attached files take the main file's setting.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            if let tables {
                try db.execute(sql: "ATTACH DATABASE ? AS \(HQTables.schemaName)", arguments: [tables.path])
                try db.execute(sql: "PRAGMA \(HQTables.schemaName).secure_delete = ON")
            }
        }
        self.tables = tables.map { HQTables(schema: $0.schema, maxColumns: maxTableColumns) }
        tablesPath = tables?.path
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets NORMAL on the writer when it turns WAL on, after prepareDatabase.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                if tables != nil {
                    // WAL, so a BI tool reading the tables never blocks ingest.
                    try db.execute(sql: "PRAGMA \(HQTables.schemaName).journal_mode = WAL")
                    // NORMAL: no fsync per commit for the tables file. SQLite commits the store
                    // (FULL) first and the tables file after it, so after a power cut the tables
                    // may lag the store, never lead it, and opening catches them up from the
                    // store (`catchUpTables`): the tables never lose a merge for good.
                    try db.execute(sql: "PRAGMA \(HQTables.schemaName).synchronous = NORMAL")
                }
            }
            try SQLiteMigrations.migrator.migrate(pool)
            if let writer = self.tables {
                try pool.write { db in try writer.ensure(db) }
                _ = try catchUpTables()
            }
        } catch let error as DatabaseError {
            throw StoreError(
                kind: .corrupt, message: "cannot open the HQ store at \(path) (SQLite \(error.resultCode))",
                hint: "check that the directory exists and is writable, and that no other program holds the file")
        }
    }

    // MARK: HQ's SQL tables (docs/HQ-TABLES.md)

    /// Applies to HQ's SQL tables what the store holds past the sequence they show: after a
    /// power cut (the two files commit one after the other) or a tables file deleted. Runs
    /// when the store opens. Returns the rows applied.
    @discardableResult
    public func catchUpTables(chunk: Int = 2_000, progress: (Int) -> Void = { _ in }) throws -> Int {
        guard let tables else { return 0 }
        var applied = 0
        while true {
            let step = try pool.write { db -> Int in
                let (count, _) = try tables.reapply(db, after: try tables.appliedSequence(db), limit: chunk)
                if count < chunk {
                    try db.execute(
                        sql: "UPDATE \(HQTables.schemaName)._dealersync_state SET feed_seq = max(feed_seq, ?) WHERE id = 1",
                        arguments: [Int64(bitPattern: try Self.latestSequence(db))])
                }
                return count
            }
            applied += step
            progress(applied)
            if step < chunk { return applied }
        }
    }

    /// Empties HQ's SQL tables and fills them again from the merged rows, `chunk` rows a
    /// transaction (HQ may keep serving meanwhile: a push applies as usual, and each chunk
    /// reads the rows' current versions). `progress` gets (rows applied, rows in total).
    public func rebuildTables(chunk: Int = 2_000, progress: (Int, Int) -> Void = { _, _ in }) throws -> Int {
        guard let tables else { return 0 }
        let total = try pool.write { db in
            try tables.clear(db)
            let names = try tables.layouts(db).keys.sorted()
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM rows WHERE table_name IN (\(names.map { _ in "?" }.joined(separator: ", ")))",
                                    arguments: StatementArguments(names)) ?? 0
        }
        return try catchUpTables(chunk: chunk) { progress($0, total) }
    }

    /// Fills the tables that were created or gained a column while the store already had
    /// their rows, `chunk` rows a write transaction so pushes go on meanwhile. Resumes where
    /// it stopped (the position is kept in the tables file). Returns the rows shown.
    @discardableResult
    public func fillTables(chunk: Int = 2_000) async throws -> Int {
        guard let tables else { return 0 }
        var shown = 0
        while let step = try await pool.write({ db in try tables.fillChunk(db, limit: chunk) }) {
            shown += step.rows
            try Task.checkCancellation()
        }
        return shown
    }

    public func tablesStatus() async throws -> TablesStatus? {
        guard let tables, let tablesPath else { return nil }
        return try await pool.read { db in
            TablesStatus(
                path: tablesPath, feedSequence: UInt64(try tables.appliedSequence(db)),
                rows: Dictionary(uniqueKeysWithValues: try tables.layouts(db).values.map { layout in
                    (layout.spec.name, try Int.fetchOne(db, sql: "SELECT count(*) FROM \(layout.qualifiedName)") ?? 0)
                }),
                filling: try tables.filling(db))
        }
    }

    /// For each of HQ's SQL tables, how many rows differ from the merged state (0: equal).
    public func checkTables() throws -> [String: Int] {
        guard let tables else { return [:] }
        return try pool.write { db in
            Dictionary(uniqueKeysWithValues: try tables.layouts(db).keys.sorted().map { ($0, try tables.differences(db, table: $0)) })
        }
    }

    // MARK: Principals

    public func addPrincipal(_ principal: NewPrincipal) async throws {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM principals WHERE id = ?", arguments: [principal.id]) == true {
                throw StoreError(
                    kind: .exists, message: "the id \(principal.id) was issued before (ids are never reused, even after revoking)",
                    hint: "choose a new id")
            }
            try db.execute(
                sql: "INSERT INTO principals (id, name, kind, token_sha256, created_ms) VALUES (?, ?, ?, ?, ?)",
                arguments: [principal.id, principal.name, principal.kind.rawValue, principal.tokenSHA256, principal.createdAtMillis])
        }
    }

    public func revokePrincipal(id: String) async throws {
        try await pool.write { db in
            let now = Date.nowMillis
            try db.execute(sql: "UPDATE principals SET revoked_ms = COALESCE(revoked_ms, ?) WHERE id = ?", arguments: [now, id])
            guard db.changesCount == 1 else {
                throw StoreError(kind: .notFound, message: "no dealer or reader has the id \(id)", hint: "run `dealersync hq status` to list ids")
            }
        }
    }

    public func principal(tokenSHA256: String) async throws -> Principal? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT id, name, kind, revoked_ms FROM principals WHERE token_sha256 = ?", arguments: [tokenSHA256])
            else { return nil }
            guard let kind = PrincipalKind(rawValue: row["kind"]) else { return nil }
            return Principal(id: row["id"], name: row["name"], kind: kind, revoked: row["revoked_ms"] as Int64? != nil)
        }
    }

    // MARK: Ingest

    public func acknowledgedReceipt(dealer: NodeID, sha256: String) async throws -> [UInt8]? {
        try await pool.read { db in
            try Data.fetchOne(
                db, sql: "SELECT receipt FROM batches WHERE dealer = ? AND sha256 = ? LIMIT 1",
                arguments: [dealer.rawValue, sha256]
            ).map { Array($0) }
        }
    }

    public func ingest(_ batch: IngestBatch) async throws -> IngestOutcome {
        try await pool.write { db in
            let dealer = batch.dealer.rawValue
            if let previous = try Row.fetchOne(
                db, sql: "SELECT sha256, receipt FROM batches WHERE dealer = ? AND first_seq = ? AND last_seq = ?",
                arguments: [dealer, Int64(bitPattern: batch.firstSequence), Int64(bitPattern: batch.lastSequence)])
            {
                let sha: String = previous["sha256"]
                let receipt: Data = previous["receipt"]
                return sha == batch.sha256 ? .replayed(receipt: Array(receipt)) : .mismatch
            }
            let batchID = "\(dealer):\(batch.firstSequence)-\(batch.lastSequence)"
            var writer = try RowWriter(db: db, source: dealer, atMillis: batch.receivedAtMillis, maxRowBytes: batch.maxRowBytes, tables: try tables?.writer(db))
            var applied = 0
            var unchanged = 0
            var deadLetters = batch.deadLetters
            var notices = batch.deadLetters.map { RowNotice(row: $0.index, table: $0.table, kind: .refused, reason: $0.reason) }
            let anyErased = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM erasures)") ?? false
            for row in batch.rows {
                if anyErased, let erasure = try Self.erasure(db, table: row.spec.name, key: Data(row.version.key.bytes)),
                    Self.isStaleCopy(row.version, of: erasure)
                {
                    try Self.refuseErased(row.version, spec: row.spec, from: batch.dealer, erasure: erasure, &writer, db, atMillis: batch.receivedAtMillis)
                    unchanged += 1
                    notices.append(RowNotice(
                        row: row.index, table: row.spec.name, kind: .refused,
                        reason: "row \(row.index): table '\(row.spec.name)': the row was erased at HQ on request and is not brought back; the store's copy is deleted with the next pull"))
                    continue
                }
                switch try writer.merge(pushed: row.version, spec: row.spec, from: batch.dealer) {
                case .applied:
                    applied += 1
                case .unchanged:
                    unchanged += 1
                case .overruled(let columns):
                    applied += 1
                    notices.append(RowNotice(
                        row: row.index, table: row.spec.name, kind: .overruled, columns: columns,
                        reason: "row \(row.index): table '\(row.spec.name)' columns \(columns.joined(separator: ", ")) are not this store's to write; HQ's value stays"))
                case .refused(let reason):
                    let letter = DeadLetter(index: row.index, table: row.spec.name, reason: "row \(row.index): table '\(row.spec.name)': \(reason)", versionBytes: row.version.canonicalBytes)
                    deadLetters.append(letter)
                    notices.append(RowNotice(row: row.index, table: row.spec.name, kind: .refused, reason: letter.reason))
                }
            }
            try writer.finish()
            // A refused row of an erased key is not kept either (docs/PRIVACY.md).
            if anyErased { deadLetters = try deadLetters.filter { try !Self.isErasedLetter($0, from: batch.dealer, db) } }
            for letter in deadLetters {
                try db.execute(
                    sql: """
                        INSERT INTO dead_letters (dealer, batch, row_index, table_name, reason, version, at_ms)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [dealer, batchID, letter.index, letter.table, letter.reason, Data(letter.versionBytes), batch.receivedAtMillis])
            }
            notices.sort { $0.row < $1.row }
            let receipt = PushReceipt(
                batch: batchID, rows: batch.rows.count + batch.deadLetters.count, applied: applied, unchanged: unchanged,
                deadLetters: deadLetters.count, conflicts: writer.conflictCount, feedSequence: writer.sequence,
                notices: notices.isEmpty ? nil : Array(notices.prefix(PushReceipt.maxNotices)))
            let receiptBytes = try JSONEncoder.sorted.encode(receipt)
            try db.execute(
                sql: """
                    INSERT INTO batches (dealer, first_seq, last_seq, sha256, receipt, row_count, compressed_bytes, at_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    dealer, Int64(bitPattern: batch.firstSequence), Int64(bitPattern: batch.lastSequence), batch.sha256,
                    receiptBytes, receipt.rows, batch.compressedBytes, batch.receivedAtMillis,
                ])
            try db.execute(
                sql: """
                    UPDATE principals SET last_seen_ms = ?, last_batch = ?, clock_skew_ms = COALESCE(?, clock_skew_ms)
                    WHERE id = ?
                    """,
                arguments: [batch.receivedAtMillis, batchID, batch.clockSkewMillis, dealer])
            return .applied(receipt: Array(receiptBytes), summary: receipt)
        }
    }

    public func writeAsHQ(_ write: HQWrite) async throws -> HQWriteReceipt {
        try await pool.write { db in
            var writer = try RowWriter(db: db, source: NodeID.hq.rawValue, atMillis: write.atMillis, maxRowBytes: write.maxRowBytes, tables: try tables?.writer(db))
            let existing = try writer.storedVersion(write.spec.name, Data(write.key.bytes))?.version
            var clock = try HQClock(db)
            let (dot, now) = clock.next(after: existing?.latestHLC ?? .zero, wallMillis: write.atMillis)
            var version: RowVersion
            if var current = existing {
                if write.delete { current.delete(dot: dot, hlc: now) } else { current.write(write.values, dot: dot, hlc: now) }
                version = current
            } else {
                version = RowVersion.inserted(table: write.spec.name, key: write.key, values: write.values, dot: dot, hlc: now)
                if write.delete { version.delete(dot: dot, hlc: now) }
            }
            if case .refused(let reason) = try writer.merge(hqVersion: version, spec: write.spec) {
                throw StoreError(kind: .tooLarge, message: "the write was not stored: \(reason)", hint: "write fewer or smaller values to this row")
            }
            try clock.save(db)
            try writer.finish()
            return HQWriteReceipt(feedSequence: writer.sequence, counter: clock.counter, conflicts: writer.conflictCount)
        }
    }

    public func share(table: String, key: RowKey, with dealer: NodeID) async throws -> Bool {
        try await pool.write { db in
            guard try String.fetchOne(db, sql: "SELECT kind FROM principals WHERE id = ? AND revoked_ms IS NULL", arguments: [dealer.rawValue]) == PrincipalKind.dealer.rawValue else {
                throw StoreError(kind: .notFound, message: "no active dealer has the id \(dealer)", hint: "run `dealersync hq status` to list dealers")
            }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM rows WHERE table_name = ? AND row_key = ?", arguments: [table, Data(key.bytes)]) == true else {
                throw StoreError(kind: .notFound, message: "HQ has no row of table '\(table)' with that key", hint: "check the table name and the key's values and types")
            }
            try db.execute(
                sql: "INSERT INTO holders (dealer, table_name, row_key, known_seq) VALUES (?, ?, ?, 0) ON CONFLICT DO NOTHING",
                arguments: [dealer.rawValue, table, Data(key.bytes)])
            return db.changesCount == 1
        }
    }

    // MARK: Pulls

    public func changes(for dealer: NodeID, schema: SyncSchema, after: UInt64, limit: PageLimit) async throws -> ChangePage {
        let routing = RoutingSQL(schema: schema)
        return try await pool.read { db in
            let latest = try Self.latestSequence(db)
            guard let filter = routing.filter else { return ChangePage(rows: [], nextCursor: latest) }
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT r.feed_seq, r.version FROM rows r
                    WHERE r.feed_seq > ? AND \(filter)
                    ORDER BY r.feed_seq LIMIT ?
                    """,
                arguments: [Int64(bitPattern: after)] + routing.arguments(dealer: dealer.rawValue) + [limit.rows])
            var page: [(sequence: UInt64, version: RowVersion)] = []
            var bytes = 0
            var full = false
            while let row = try cursor.next() {
                let data: Data = row["version"]
                // Rows are at most max_row_bytes each, so a page is at most bytes + one row.
                if !page.isEmpty && bytes + data.count > limit.bytes {
                    full = true
                    break
                }
                bytes += data.count
                page.append((UInt64(row["feed_seq"] as Int64), try RowVersion(canonicalBytes: Array(data))))
            }
            // A short page saw every change up to `latest`; a full one continues after its last row.
            let next = full || page.count == limit.rows ? page.last!.sequence : max(latest, after)
            return ChangePage(rows: page, nextCursor: next, erased: try Self.erasureTombstones(db, in: page.map(\.version)))
        }
    }

    public func feed(after: UInt64, limit: PageLimit) async throws -> [FeedEntry] {
        try await feedPage(after: after, limit: limit).entries
    }

    public func feedPage(after: UInt64, limit: PageLimit) async throws -> FeedRead {
        try await pool.read { db in
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT seq, version, source, at_ms FROM feed WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [Int64(bitPattern: after), limit.rows])
            var entries: [FeedEntry] = []
            var bytes = 0
            while let row = try cursor.next() {
                let data: Data = row["version"]
                if !entries.isEmpty && bytes + data.count > limit.bytes { break }
                bytes += data.count
                entries.append(FeedEntry(
                    sequence: UInt64(row["seq"] as Int64), source: row["source"], atMillis: row["at_ms"],
                    version: try RowVersion(canonicalBytes: Array(data))))
            }
            return FeedRead(entries: entries, horizon: try Self.feedHorizon(db))
        }
    }

    public func latestSequence() async throws -> UInt64 {
        try await pool.read { db in try Self.latestSequence(db) }
    }

    static func latestSequence(_ db: Database) throws -> UInt64 {
        UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM feed") ?? 0)
    }

    public func recordPull(
        dealer: NodeID, cursor: UInt64, atMillis: Int64, clockSkewMillis: Int64?, capture: CaptureReport?, health: StoreHealthReport?
    ) async throws {
        try await pool.write { db in
            if let health {
                try db.execute(
                    sql: """
                        UPDATE principals SET agent_version = ?, pending_changes = ?, outbox_rows = ?, held_rows = ?, free_disk_mb = ?,
                        last_error = ?, health_ms = ?, schema_running = COALESCE(?, schema_running) WHERE id = ?
                        """,
                    arguments: [
                        health.agentVersion, health.pendingChanges, health.outboxRows, health.heldRows, health.freeDiskMB, health.lastError, atMillis,
                        health.schemaVersion.map { Int64(bitPattern: $0) }, dealer.rawValue,
                    ])
            }
            try db.execute(
                sql: """
                    UPDATE principals SET last_seen_ms = ?, pulled_seq = MAX(pulled_seq, ?),
                    clock_skew_ms = COALESCE(?, clock_skew_ms),
                    capture_state = COALESCE(?, capture_state), capture_tables = COALESCE(?, capture_tables),
                    capture_gap_ms = CASE WHEN ? THEN ? ELSE capture_gap_ms END WHERE id = ?
                    """,
                arguments: [
                    atMillis, Int64(bitPattern: cursor), clockSkewMillis, capture?.state.rawValue, capture?.tables,
                    capture != nil, capture?.lastGapMillis, dealer.rawValue,
                ])
        }
    }

    public func acknowledgedSequence(dealer: NodeID) async throws -> UInt64 {
        try await pool.read { db in
            // The batch with the highest first sequence has the highest last one: a store
            // numbers its batches in order (primary key order, no scan).
            UInt64(try Int64.fetchOne(
                db, sql: "SELECT last_seq FROM batches WHERE dealer = ? ORDER BY first_seq DESC LIMIT 1", arguments: [dealer.rawValue]) ?? 0)
        }
    }

    public func resendAll(to dealer: NodeID) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "UPDATE holders SET known_seq = 0 WHERE dealer = ? AND known_seq <> 0", arguments: [dealer.rawValue])
            return db.changesCount
        }
    }

    // MARK: Status

    public func status(schema: SyncSchema) async throws -> [DealerStatus] { try await status(schema: schema, only: nil) }

    /// One dealer's status (the console's dealer page), nil for an unknown id.
    public func status(schema: SyncSchema, dealer: String) async throws -> DealerStatus? { try await status(schema: schema, only: dealer).first }

    private func status(schema: SyncSchema, only dealer: String?) async throws -> [DealerStatus] {
        let routing = RoutingSQL(schema: schema)
        return try await pool.read { db in
            let latest = Int64(bitPattern: try Self.latestSequence(db))
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT p.id, p.name, p.revoked_ms, p.last_seen_ms, p.last_batch, p.pulled_seq, p.clock_skew_ms,
                      p.capture_state, p.capture_tables, p.capture_gap_ms,
                      p.agent_version, p.pending_changes, p.outbox_rows, p.held_rows, p.free_disk_mb, p.last_error, p.health_ms,
                      COALESCE(p.group_name, 'default') AS group_name, p.schema_running,
                      (SELECT g.schema_version FROM dealer_groups g WHERE g.name = COALESCE(p.group_name, 'default')) AS schema_assigned,
                      (SELECT COUNT(*) FROM batches b WHERE b.dealer = p.id) AS batches,
                      (SELECT COUNT(*) FROM dead_letters d WHERE d.dealer = p.id) AS dead_letters,
                      (SELECT COUNT(*) FROM conflicts c WHERE c.source = p.id) AS conflicts
                    FROM principals p WHERE p.kind = 'dealer'\(dealer == nil ? "" : " AND p.id = ?") ORDER BY p.id
                    """,
                arguments: dealer.map { [$0] } ?? []
            ).map { row in
                let id: String = row["id"]
                let pulled = row["pulled_seq"] as Int64
                let backlog = try Self.backlog(db, dealer: id, pulled: pulled, latest: latest, routing: routing)
                return DealerStatus(
                    id: id, name: row["name"], revoked: row["revoked_ms"] as Int64? != nil,
                    lastSeenMillis: row["last_seen_ms"], lastBatch: row["last_batch"], batches: row["batches"],
                    pulledSequence: UInt64(pulled), backlog: backlog, clockSkewMillis: row["clock_skew_ms"],
                    deadLetters: row["dead_letters"], conflicts: row["conflicts"], errors: 0,
                    capture: (row["capture_state"] as String?).flatMap(CaptureReport.State.init(rawValue:)).map {
                        CaptureReport(state: $0, tables: row["capture_tables"], lastGapMillis: row["capture_gap_ms"])
                    },
                    health: (row["agent_version"] as String?).map {
                        StoreHealthReport(
                            agentVersion: $0, pendingChanges: row["pending_changes"] ?? 0, outboxRows: row["outbox_rows"] ?? 0,
                            heldRows: row["held_rows"] ?? 0, freeDiskMB: row["free_disk_mb"], lastError: row["last_error"])
                    },
                    healthAtMillis: row["health_ms"], group: row["group_name"],
                    schemaRunning: (row["schema_running"] as Int64?).map(UInt64.init), schemaAssigned: (row["schema_assigned"] as Int64?).map(UInt64.init))
            }
        }
    }

    /// Rows routed to `dealer` after its last pull, counted over whichever is shorter: the
    /// feed since its pull, or the rows it holds (a store far behind, or a fleet of new
    /// stores that never pulled: a thousand of them cost a thousand index probes, not a
    /// thousand scans of the feed). Both count the same rows (`RoutingSQL`): a held row whose
    /// current version is newer than both the pull and what the dealer has, and a broadcast
    /// row newer than the pull that the dealer does not have in its current version.
    static func backlog(
        _ db: Database, dealer: String, pulled: Int64, latest: Int64, routing: RoutingSQL, walkFeed: Bool? = nil
    ) throws -> Int {
        guard let filter = routing.filter else { return 0 }
        let shorter = {
            latest - pulled <= Int64(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM holders WHERE dealer = ?", arguments: [dealer]) ?? 0)
        }
        if try walkFeed ?? shorter() {
            return try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM rows r WHERE r.feed_seq > ? AND \(filter)", arguments: [pulled] + routing.arguments(dealer: dealer)) ?? 0
        }
        let held = routing.pullable.filter { !routing.broadcast.contains($0) }
        var count = 0
        if !held.isEmpty {
            count += try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM holders h JOIN rows r ON r.table_name = h.table_name AND r.row_key = h.row_key
                    WHERE h.dealer = ? AND h.table_name IN (\(held.map { _ in "?" }.joined(separator: ", "))) AND r.feed_seq > max(?, h.known_seq)
                    """,
                arguments: [dealer] + StatementArguments(held) + [pulled]) ?? 0
        }
        if !routing.broadcast.isEmpty {
            count += try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM rows r WHERE r.feed_seq > ? AND +r.table_name IN (\(routing.broadcast.map { _ in "?" }.joined(separator: ", ")))
                    AND NOT EXISTS (SELECT 1 FROM holders h WHERE h.dealer = ? AND h.table_name = r.table_name AND h.row_key = r.row_key
                                    AND h.known_seq = r.feed_seq)
                    """,
                arguments: [pulled] + StatementArguments(routing.broadcast) + [dealer]) ?? 0
        }
        return count
    }

    // MARK: Testing and operations

    /// A SHA-256 over the content of every HQ table, for checking that a refused request
    /// changed nothing.
    public func contentDigest() async throws -> String {
        try await pool.read { db in
            var bytes: [UInt8] = []
            for table in ["principals", "rows", "feed", "holders", "batches", "dead_letters", "conflicts", "hq_clock"] {
                bytes += Array("#\(table)\n".utf8)
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1, 2, 3") {
                    bytes += Array(row.description.utf8) + [10]
                }
            }
            return BodyChecksum.sha256Hex(bytes)
        }
    }

    /// Counts of rows in the dead-letter and conflict tables, for tests and status.
    public func count(_ table: String) async throws -> Int {
        precondition(["rows", "feed", "holders", "batches", "dead_letters", "conflicts", "principals"].contains(table))
        return try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
    }

    /// Dead-letter reasons, oldest first (never values).
    public func deadLetterReasons() async throws -> [String] {
        try await pool.read { db in try String.fetchAll(db, sql: "SELECT reason FROM dead_letters ORDER BY id") }
    }
}

/// The routing rule as SQL over `rows r`: a pullable table, and either a broadcast table or
/// a row the dealer holds (pushed, or routed to it by the routing column), minus rows whose
/// current version the dealer already has (its own unchanged write).
struct RoutingSQL {
    let pullable: [String]
    let broadcast: [String]

    init(schema: SyncSchema) {
        pullable = schema.tables.filter { $0.direction.dealerPulls }.map(\.name)
        broadcast = schema.tables.filter { $0.direction.dealerPulls && $0.broadcast }.map(\.name)
    }

    /// nil when no table is pulled at all.
    var filter: String? {
        guard !pullable.isEmpty else { return nil }
        let isBroadcast = broadcast.isEmpty ? "0" : "r.table_name IN (\(placeholders(broadcast.count)))"
        // `+r.table_name`: without the plus SQLite picks the primary key for the IN list
        // and sorts every row of the pulled tables for each page (EXPLAIN: USE TEMP B-TREE
        // FOR ORDER BY), so pulling N rows cost O(N²); with it, pages walk rows_by_feed_seq.
        return """
            +r.table_name IN (\(placeholders(pullable.count)))
            AND NOT EXISTS (SELECT 1 FROM holders h WHERE h.dealer = ? AND h.table_name = r.table_name
                            AND h.row_key = r.row_key AND h.known_seq = r.feed_seq)
            AND (\(isBroadcast) OR EXISTS (SELECT 1 FROM holders h WHERE h.dealer = ?
                            AND h.table_name = r.table_name AND h.row_key = r.row_key))
            """
    }

    func arguments(dealer: String) -> StatementArguments {
        StatementArguments(pullable) + [dealer] + StatementArguments(broadcast) + [dealer]
    }

    private func placeholders(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ", ") }
}

