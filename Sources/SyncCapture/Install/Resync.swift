import Foundation
import GRDB
import SQLiteValues
import SyncCore

/// What `dealersync resync` found and queued.
public struct ResyncReport: Hashable, Sendable {
    /// Rows checked, DMS rows plus clock records.
    public var checked = 0
    /// DMS rows with no sync history (written while capture was off): queued as inserts.
    public var unsyncedRows = 0
    /// Rows dealersync knows as alive that are gone from the DMS: queued as deletes.
    public var vanishedRows = 0
    /// The pull cursor was cleared, so the next cycle pulls everything routed here again.
    public var pullRestarted = false
}

extension DealerDatabase {
    /// Repairs capture after writes it could not see (triggers dropped by a DMS upgrade, a
    /// restore from backup, `INSERT OR REPLACE` without recursive triggers): every DMS row
    /// without sync history is queued as an insert, every known row that is gone from the DMS
    /// as a delete, and the pull cursor is cleared so HQ's rows are pulled again.
    ///
    /// Safe and idempotent: it only adds change-log entries (which coalesce with pending
    /// ones) and re-pulls versions whose merge is a join, so running it twice, or on a store
    /// that is in sync, sends nothing new. Each chunk is its own short transaction, so the
    /// DMS keeps working. The caller holds the agent lock, so no pull runs meanwhile.
    ///
    /// An UPDATE made while capture was off leaves no trace locally (the DMS holds the only
    /// copy of the values); `dealersync digest` against HQ finds such rows.
    ///
    /// `tables`: only these (HQ's remote request for one table); nil: every pushed table.
    public func resync(tables only: [String]? = nil, chunkRows: Int = 2_000, progress: (CaptureProgress) -> Void = { _ in }) throws -> ResyncReport {
        var report = ResyncReport()
        let tables = try read { db -> [String] in
            try requireInstalled(db)
            let schema = try SyncTables.installedSchema(db)
            let pushed = schema.tables.filter(\.direction.dealerPushes).map(\.name)
            if let unknown = only?.first(where: { !pushed.contains($0) }) {
                throw CaptureError(
                    .tableMissing, "table '\(unknown)' is not a table this store sends to HQ",
                    hint: "name a table of the sync schema with direction both or up")
            }
            return pushed.filter { only?.contains($0) ?? true }
        }
        for table in tables {
            try queueUnsyncedRows(table: table, chunkRows: chunkRows, report: &report, progress: progress)
            try queueVanishedRows(table: table, chunkRows: chunkRows, report: &report, progress: progress)
        }
        try write { db in try SyncTables.setMeta(db, .pullCursor, nil) }
        report.pullRestarted = true
        return report
    }

    /// DMS rows that have no clock record get a full-mask log entry: stamping sends them as inserts.
    private func queueUnsyncedRows(
        table: String, chunkRows: Int, report: inout ResyncReport, progress: (CaptureProgress) -> Void
    ) throws {
        let total = try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(quoted(table))") ?? 0 }
        var after: [DatabaseValue]? = nil
        var done = 0
        while true {
            let page: Int = try write { db in
                let transaction = try SyncTransaction(db, node: node, wallMillis: 0, hashKey: settings.hashKey)
                guard let registration = transaction.registrations[table], let shape = transaction.shapes[table] else { return 0 }
                // Page by rowid where there is one, else by the key (NOT NULL in WITHOUT ROWID tables).
                let cursor = shape.withoutRowID ? registration.primaryKey.map(quoted) : ["rowid"]
                let tuple = "(" + cursor.joined(separator: ", ") + ")"
                let placeholders = "(" + cursor.map { _ in "?" }.joined(separator: ", ") + ")"
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(cursor.joined(separator: ", ")), \(registration.primaryKey.map(quoted).joined(separator: ", "))
                        FROM \(quoted(table)) WHERE \(after == nil ? "1" : "\(tuple) > \(placeholders)")
                        ORDER BY \(cursor.joined(separator: ", ")) LIMIT \(chunkRows)
                        """,
                    arguments: StatementArguments(after ?? []))
                for row in rows {
                    let key = RowKey((0..<registration.primaryKey.count).map { SQLValue(databaseValue: row[cursor.count + $0]) })
                    if try transaction.storedVersion(registration, key: key, dmsValues: nil) == nil {
                        if try Self.queueLogEntry(db, registration, key: key, fullMask: true) { report.unsyncedRows += 1 }
                    }
                }
                if let last = rows.last { after = cursor.indices.map { last[$0] as DatabaseValue } }
                return rows.count
            }
            done += page
            report.checked += page
            progress(CaptureProgress(step: "resync: rows without sync history", table: table, done: done, total: total))
            if page < chunkRows { return }
        }
    }

    /// Clock records of rows alive at last sync whose DMS row is gone get an empty-mask log
    /// entry: stamping sends them as deletes (and skips rows already deleted).
    private func queueVanishedRows(
        table: String, chunkRows: Int, report: inout ResyncReport, progress: (CaptureProgress) -> Void
    ) throws {
        let total = try read { db -> Int in
            guard let registration = try TableRegistration.named(db, table) else { return 0 }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM _dealersync_clock WHERE table_id = ?", arguments: [registration.id]) ?? 0
        }
        var after = Data()
        var done = 0
        while true {
            let page: Int = try write { db in
                let transaction = try SyncTransaction(db, node: node, wallMillis: 0, hashKey: settings.hashKey)
                guard let registration = transaction.registrations[table], let shape = transaction.shapes[table] else { return 0 }
                let keys = try Data.fetchAll(
                    db, sql: "SELECT key FROM _dealersync_clock WHERE table_id = ? AND key > ? ORDER BY key LIMIT \(chunkRows)",
                    arguments: [registration.id, after])
                for blob in keys {
                    let key = try RowKey(bytes: Array(blob))
                    guard try Self.vanished(transaction, registration, shape: shape, key: key) else { continue }
                    if try Self.queueLogEntry(db, registration, key: key, fullMask: false) { report.vanishedRows += 1 }
                }
                if let last = keys.last { after = last }
                return keys.count
            }
            done += page
            report.checked += page
            progress(CaptureProgress(step: "resync: rows gone from the DMS", table: table, done: done, total: total))
            if page < chunkRows { return }
        }
    }

    /// Whether a row dealersync knows as alive is gone from the DMS: a delete capture missed.
    static func vanished(_ transaction: SyncTransaction, _ registration: TableRegistration, shape: TableShape, key: RowKey) throws -> Bool {
        guard try transaction.dmsValues(shape, key: key) == nil,
            let stored = try transaction.storedVersion(registration, key: key, dmsValues: nil)
        else { return false }
        return stored.isAlive(policy: transaction.policy(registration.name))
    }

    /// A change-log entry as the triggers would write it. An entry already pending for the
    /// row is kept (a full mask widens it) and not counted: that change is queued already.
    static func queueLogEntry(_ db: Database, _ registration: TableRegistration, key: RowKey, fullMask: Bool) throws -> Bool {
        let keyColumns = registration.logKeyColumns
        let masks = registration.logMaskColumns
        let keyArguments = StatementArguments(key.values.map(\.databaseValue))
        try db.execute(
            sql: """
                INSERT INTO \(registration.logTable) (\((keyColumns + masks).joined(separator: ", ")))
                VALUES (\((keyColumns.map { _ in "?" } + masks.map { _ in fullMask ? "-1" : "0" }).joined(separator: ", ")))
                ON CONFLICT (\(keyColumns.joined(separator: ", "))) DO NOTHING
                """,
            arguments: keyArguments)
        if db.changesCount == 1 { return true }
        if fullMask && !masks.isEmpty {
            try db.execute(
                sql: """
                    UPDATE \(registration.logTable) SET \(masks.map { "\($0) = -1" }.joined(separator: ", "))
                    WHERE \(registration.logKeyMatch)
                    """,
                arguments: keyArguments)
        }
        return false
    }
}
