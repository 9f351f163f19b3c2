import Foundation
import GRDB
import SyncCore

/// Retention (docs/HQ.md, "Retention"): the feed keeps every change for `retention.feed_days`
/// and, older than that, only each row's current version; a deleted row goes once every store
/// that may still need the delete has pulled it.
///
/// `store_state.feed_horizon` (H) is where the full history starts: at and below H the feed
/// holds one entry per row (its current version), so `after=c1.0` still reads every row, and a
/// reader whose cursor is below H may have missed changes (410, `FeedController`). H only grows.
/// Every step runs in write transactions of at most `chunk` rows, so pushes wait for one chunk
/// at most, never for a whole pass.
extension SQLiteSyncStore {
    /// The sequence up to which the feed holds only current versions (0: never compacted).
    public func feedHorizon() async throws -> UInt64 {
        try await pool.read { db in try Self.feedHorizon(db) }
    }

    static func feedHorizon(_ db: Database) throws -> UInt64 {
        UInt64(try Int64.fetchOne(db, sql: "SELECT feed_horizon FROM store_state WHERE id = 1") ?? 0)
    }

    /// One retention pass (what `RetentionService` runs): compacts the feed up to `cutoff` (ms
    /// since 1970), purges the deleted rows every holder has, and forgets what revoked dealers held.
    public func applyRetention(olderThanMillis cutoff: Int64, schema: SyncSchema, chunk: Int = 5_000) async throws -> RetentionReport {
        let removed = try await compactFeed(olderThanMillis: cutoff, chunk: chunk)
        // A deleted row costs a holders lookup per lagging dealer: smaller chunks keep each
        // transaction short.
        let purged = try await purgeTombstones(schema: schema, chunk: max(1, chunk / 10))
        let dropped = try await dropRevokedHolders(chunk: chunk)
        let batches = try await pruneBatches(olderThanMillis: cutoff, chunk: chunk)
        return try await pool.read { db in
            RetentionReport(
                feedHorizon: try Self.feedHorizon(db), feedEntriesRemoved: removed, tombstonesPurged: purged,
                tombstonesWaiting: try Int.fetchOne(db, sql: "SELECT count(*) FROM tombstones_waiting") ?? 0,
                revokedHoldersRemoved: dropped, batchesRemoved: batches)
        }
    }

    /// Forgets acknowledged batches older than `cutoff`, except each dealer's newest (it says
    /// which sequence HQ acknowledged last, which restore detection reads). A store that
    /// replays a forgotten batch has it merged again, and it changes nothing: every row in it
    /// is already part of HQ's versions.
    @discardableResult
    public func pruneBatches(olderThanMillis cutoff: Int64, chunk: Int = 5_000) async throws -> Int {
        var removed = 0
        while true {
            let step = try await pool.write { db -> Int in
                try db.execute(
                    sql: """
                        DELETE FROM batches WHERE rowid IN (
                          SELECT b.rowid FROM batches b WHERE b.at_ms < ?
                            AND b.first_seq < (SELECT max(n.first_seq) FROM batches n WHERE n.dealer = b.dealer)
                          LIMIT ?)
                        """,
                    arguments: [cutoff, chunk])
                return db.changesCount
            }
            removed += step
            if step < chunk { return removed }
        }
    }

    // MARK: Compaction

    /// Walks the feed from the horizon in sequence order, `chunk` entries a transaction, while
    /// entries are older than `cutoff` (ms since 1970); removes the walked entries that are not
    /// their row's current version and moves the horizon to the last one walked. Returns the
    /// entries removed.
    @discardableResult
    public func compactFeed(olderThanMillis cutoff: Int64, chunk: Int = 5_000) async throws -> Int {
        let chunk = max(1, chunk)
        let now = Date.nowMillis
        var removed = 0
        while true {
            let step = try await pool.write { db -> (removed: Int, done: Bool) in
                let horizon = Int64(bitPattern: try Self.feedHorizon(db))
                let entries = try Row.fetchAll(
                    db, sql: "SELECT seq, at_ms FROM feed WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [horizon, chunk])
                // `at_ms` is HQ's clock when the push arrived, which follows commit order only
                // roughly: the walk stops at the first entry inside the window.
                let aged = entries.prefix(while: { ($0["at_ms"] as Int64) < cutoff })
                let last = aged.last.map { $0["seq"] as Int64 } ?? horizon
                var count = 0
                if last > horizon {
                    // rows_by_feed_seq answers the NOT IN for the chunk's range alone. The feed's
                    // newest entry is always a current version, so MAX(seq) never goes back.
                    try db.execute(
                        sql: """
                            DELETE FROM feed WHERE seq > ? AND seq <= ?
                            AND seq NOT IN (SELECT feed_seq FROM rows WHERE feed_seq > ? AND feed_seq <= ?)
                            """,
                        arguments: [horizon, last, horizon, last])
                    count = db.changesCount
                }
                try db.execute(sql: "UPDATE store_state SET feed_horizon = ?, last_compaction_ms = ? WHERE id = 1", arguments: [last, now])
                return (count, aged.count < chunk)
            }
            removed += step.removed
            if step.done { return removed }
            try Task.checkCancellation()
        }
    }

    // MARK: Tombstones

    /// Purges deleted rows at or below the horizon once no store that may need the delete is
    /// still without it (`TombstonePurge`). Rows the horizon passed since the last pass are
    /// looked at once (in feed order, `chunk` a transaction); deleted ones a store still needs
    /// wait in `tombstones_waiting` and are tried again on every pass. A purge removes the row,
    /// its holders, its feed entry and its lines in HQ's tables (`_dealersync_deleted`,
    /// `_dealersync_mismatches`). Returns the rows purged.
    @discardableResult
    public func purgeTombstones(schema: SyncSchema, chunk: Int = 500) async throws -> Int {
        let chunk = max(1, chunk)
        let withTables = tables != nil
        var purged = 0
        // Rows newly at or below the horizon.
        while true {
            let step = try await pool.write { db -> (purged: Int, done: Bool) in
                let horizon = Int64(bitPattern: try Self.feedHorizon(db))
                let checked = try Int64.fetchOne(db, sql: "SELECT tombstones_checked FROM store_state WHERE id = 1") ?? 0
                let rows = try Row.fetchAll(
                    db, sql: "SELECT table_name, row_key, version, feed_seq FROM rows WHERE feed_seq > ? AND feed_seq <= ? ORDER BY feed_seq LIMIT ?",
                    arguments: [checked, horizon, chunk])
                let purge = try TombstonePurge(db: db, withTables: withTables)
                var count = 0
                for row in rows {
                    let table: String = row["table_name"]
                    // A table no longer in the schema: its rows are kept as they are.
                    guard let spec = schema.table(named: table) else { continue }
                    let version = try RowVersion(canonicalBytes: Array(row["version"] as Data))
                    guard !version.isAlive(policy: spec.policy) else { continue }
                    let key: Data = row["row_key"]
                    let sequence: Int64 = row["feed_seq"]
                    if try purge.purgeIfDelivered(spec: spec, key: key, sequence: sequence) {
                        count += 1
                    } else {
                        try db.execute(sql: "INSERT INTO tombstones_waiting (feed_seq) VALUES (?) ON CONFLICT DO NOTHING", arguments: [sequence])
                    }
                }
                let done = rows.count < chunk
                let reached = done ? horizon : (rows.last.map { $0["feed_seq"] as Int64 } ?? horizon)
                try db.execute(sql: "UPDATE store_state SET tombstones_checked = max(tombstones_checked, ?) WHERE id = 1", arguments: [reached])
                return (count, done)
            }
            purged += step.purged
            if step.done { break }
            try Task.checkCancellation()
        }
        // Deleted rows that were waiting for a store's pull.
        var after: Int64 = 0
        while true {
            let from = after
            let step = try await pool.write { db -> (purged: Int, last: Int64?) in
                let waiting = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT t.feed_seq, r.table_name, r.row_key FROM tombstones_waiting t JOIN rows r ON r.feed_seq = t.feed_seq
                        WHERE t.feed_seq > ? ORDER BY t.feed_seq LIMIT ?
                        """,
                    arguments: [from, chunk])
                let purge = try TombstonePurge(db: db, withTables: withTables)
                var count = 0
                for row in waiting {
                    guard let spec = schema.table(named: row["table_name"]) else { continue }
                    if try purge.purgeIfDelivered(spec: spec, key: row["row_key"], sequence: row["feed_seq"]) { count += 1 }
                }
                return (count, waiting.count < chunk ? nil : waiting.last.map { $0["feed_seq"] as Int64 })
            }
            purged += step.purged
            guard let last = step.last else { break }
            after = last
            try Task.checkCancellation()
        }
        // Entries whose row changed since (the trigger of migration v3 removes those too).
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM tombstones_waiting WHERE feed_seq NOT IN (SELECT feed_seq FROM rows)")
        }
        return purged
    }

    /// Removes the holders rows of revoked dealers (a revoked token never pulls again, so
    /// they would only block purges and fill status), `chunk` a transaction. Returns how many.
    @discardableResult
    public func dropRevokedHolders(chunk: Int = 5_000) async throws -> Int {
        let chunk = max(1, chunk)
        var dropped = 0
        while true {
            let step = try await pool.write { db -> Int in
                guard let dealer = try String.fetchOne(
                    db,
                    sql: """
                        SELECT p.id FROM principals p
                        WHERE p.revoked_ms IS NOT NULL AND EXISTS (SELECT 1 FROM holders h WHERE h.dealer = p.id) LIMIT 1
                        """)
                else { return 0 }
                try db.execute(
                    sql: """
                        DELETE FROM holders WHERE dealer = ?
                        AND (table_name, row_key) IN (SELECT table_name, row_key FROM holders WHERE dealer = ? LIMIT ?)
                        """,
                    arguments: [dealer, dealer, chunk])
                return db.changesCount
            }
            if step == 0 { return dropped }
            dropped += step
            try Task.checkCancellation()
        }
    }

    // MARK: Status

    /// Where retention stands: the horizon, the oldest change the feed holds in full, the
    /// deleted rows waiting for a store's pull and the active dealers they wait for (a store
    /// that stopped syncing blocks purges until it is revoked). `feedDays` is the configuration's.
    public func retentionStatus(feedDays: Int, schema: SyncSchema) async throws -> RetentionStatus {
        let broadcast = schema.tables.filter { $0.direction.dealerPulls && $0.broadcast }.map(\.name)
        let isBroadcast = broadcast.isEmpty ? "0" : "+r.table_name IN (\(broadcast.map { _ in "?" }.joined(separator: ", ")))"
        return try await pool.read { db in
            let horizon = Int64(bitPattern: try Self.feedHorizon(db))
            let waitingOn = try String.fetchAll(
                db,
                sql: """
                    SELECT p.id FROM principals p
                    WHERE p.kind = 'dealer' AND p.revoked_ms IS NULL AND EXISTS (
                        SELECT 1 FROM tombstones_waiting t JOIN rows r ON r.feed_seq = t.feed_seq
                        WHERE t.feed_seq > p.pulled_seq AND (
                            (\(isBroadcast) AND NOT EXISTS (SELECT 1 FROM holders h WHERE h.dealer = p.id AND h.table_name = r.table_name
                                                            AND h.row_key = r.row_key AND h.known_seq >= t.feed_seq))
                            OR EXISTS (SELECT 1 FROM holders h WHERE h.dealer = p.id AND h.table_name = r.table_name
                                       AND h.row_key = r.row_key AND h.known_seq < t.feed_seq)))
                    ORDER BY p.id
                    """,
                arguments: StatementArguments(broadcast))
            return RetentionStatus(
                feedDays: feedDays, feedHorizon: UInt64(horizon),
                oldestFeedMillis: try Int64.fetchOne(db, sql: "SELECT at_ms FROM feed WHERE seq > ? ORDER BY seq LIMIT 1", arguments: [horizon]),
                lastCompactionMillis: try Int64.fetchOne(db, sql: "SELECT last_compaction_ms FROM store_state WHERE id = 1"),
                tombstones: try Int.fetchOne(db, sql: "SELECT count(*) FROM tombstones_waiting") ?? 0,
                tombstonesWaitingOn: waitingOn)
        }
    }
}

/// Decides and carries out the purge of one deleted row inside a write transaction.
///
/// The delete must reach every store that may hold the row first: an active dealer holding
/// it that neither has this version (`known_seq`) nor has pulled past it; for a broadcast
/// table, any active dealer that has not pulled past it. `up` rows never travel to stores, so
/// the window alone decides. Revoked dealers never pull again and do not count.
private struct TombstonePurge {
    let db: Database
    let withTables: Bool
    /// The feed's newest sequence: its entry stays (feed sequences are MAX(seq) + 1).
    let latest: Int64

    init(db: Database, withTables: Bool) throws {
        self.db = db
        self.withTables = withTables
        latest = Int64(bitPattern: try SQLiteSyncStore.latestSequence(db))
    }

    /// True when the row was purged; false when it waits.
    func purgeIfDelivered(spec: TableSpec, key: Data, sequence: Int64) throws -> Bool {
        guard sequence < latest, try !someStoreLacks(spec: spec, key: key, sequence: sequence) else { return false }
        try db.cachedStatement(sql: "DELETE FROM rows WHERE table_name = ? AND row_key = ?").execute(arguments: [spec.name, key])
        // Through the principals, so each delete is a primary-key lookup per dealer.
        try db.cachedStatement(sql: "DELETE FROM holders WHERE dealer IN (SELECT id FROM principals) AND table_name = ? AND row_key = ?")
            .execute(arguments: [spec.name, key])
        try db.cachedStatement(sql: "DELETE FROM feed WHERE seq = ?").execute(arguments: [sequence])
        try db.cachedStatement(sql: "DELETE FROM tombstones_waiting WHERE feed_seq = ?").execute(arguments: [sequence])
        if withTables {
            for list in ["_dealersync_deleted", "_dealersync_mismatches"] {
                try db.cachedStatement(sql: "DELETE FROM \(HQTables.schemaName).\(list) WHERE table_name = ? AND _row_key = ?")
                    .execute(arguments: [spec.name, key])
            }
        }
        return true
    }

    private func someStoreLacks(spec: TableSpec, key: Data, sequence: Int64) throws -> Bool {
        guard spec.direction.dealerPulls else { return false }
        // CROSS JOIN keeps principals outside, so holders is searched by its primary key.
        let sql =
            spec.broadcast
            ? """
            SELECT 1 FROM principals p
            WHERE p.kind = 'dealer' AND p.revoked_ms IS NULL AND p.pulled_seq < ?
            AND NOT EXISTS (SELECT 1 FROM holders h WHERE h.dealer = p.id AND h.table_name = ? AND h.row_key = ? AND h.known_seq >= ?)
            LIMIT 1
            """
            : """
            SELECT 1 FROM principals p CROSS JOIN holders h
            WHERE p.kind = 'dealer' AND p.revoked_ms IS NULL AND p.pulled_seq < ?
            AND h.dealer = p.id AND h.table_name = ? AND h.row_key = ? AND h.known_seq < ?
            LIMIT 1
            """
        return try Bool.fetchOne(db.cachedStatement(sql: sql), arguments: [sequence, spec.name, key, sequence]) ?? false
    }
}
