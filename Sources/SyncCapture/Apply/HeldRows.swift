import Foundation
import GRDB
import SyncCore

/// Remote rows the DMS refused to take (a NOT NULL, CHECK or UNIQUE constraint of its own, a
/// trigger that RAISEs, a key that does not fit the table). One such row must not stall the
/// store's whole pull, nor be dropped: it is set aside in `_dealersync_held` with the reason,
/// the pull goes on, and every cycle tries the held rows again until the DMS takes them (or
/// a newer version of the row from HQ replaces them). `status` shows them.
///
/// Rows of a table this store pulls but the DMS has not created yet (a module not installed
/// yet) wait here too, with `tableMissing` as the reason: they are not retried until the
/// table exists and is registered (`readyTables`), so they never crowd out the retries of
/// other tables, and `status` counts them apart, as information rather than a fault.
enum HeldRows {
    /// Errors that belong to one row, not to the database: those rows are held, anything else
    /// (disk full, I/O error, a busy lock) still fails the whole chunk, as it must.
    static func isRowError(_ error: any Error) -> Bool {
        if let error = error as? CaptureError { return error.code == .remoteRowUnfit }
        guard let error = error as? DatabaseError else { return false }
        switch error.resultCode.primaryResultCode {
        case .SQLITE_CONSTRAINT, .SQLITE_MISMATCH, .SQLITE_TOOBIG, .SQLITE_RANGE: return true
        default: return false
        }
    }

    /// The reason as stored and shown: SQLite's message names the constraint and columns,
    /// never the values (GRDB's full description would add the SQL).
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as CaptureError: error.message
        case let error as DatabaseError: error.message ?? "SQLite error \(error.resultCode.rawValue)"
        default: "\(type(of: error))"
        }
    }

    /// The reason a row of a table the DMS has not created yet is held.
    static func tableMissing(_ table: String) -> CaptureError {
        CaptureError(
            .tableMissing, "table '\(table)' is not in the DMS database yet",
            hint: "the row is applied when the DMS creates the table")
    }

    /// Tables whose held rows can be applied now: registered, a table in the DMS file (what
    /// `SyncTransaction` needs for a registration and a live shape), and not being
    /// reconciled: until the reconcile has queued the DMS's own rows of a table that just
    /// appeared, applying HQ's version of the same key would overwrite them unseen. Held
    /// rows of any other table wait.
    static func readyTables(_ db: Database) throws -> Set<String> {
        let live = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema WHERE type = 'table'"))
        return Set(try String.fetchAll(db, sql: "SELECT name FROM _dealersync_tables WHERE capture_state = 'ok'")).intersection(live)
    }

    static func hold(_ version: RowVersion, error: any Error, db: Database, wallMillis: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO _dealersync_held (table_name, row_key, version, reason, first_failed_at, last_failed_at, attempts)
                VALUES (?, ?, ?, ?, ?, ?, 1)
                ON CONFLICT (table_name, row_key) DO UPDATE SET
                    version = excluded.version, reason = excluded.reason,
                    last_failed_at = excluded.last_failed_at, attempts = attempts + 1
                """,
            arguments: [version.table, Data(version.key.bytes), Data(version.canonicalBytes), reason(error), wallMillis, wallMillis])
    }

    static func release(_ version: RowVersion, db: Database) throws {
        let statement = try db.cachedStatement(sql: "DELETE FROM _dealersync_held WHERE table_name = ? AND row_key = ?")
        try statement.execute(arguments: [version.table, Data(version.key.bytes)])
    }
}

/// A remote row waiting in `_dealersync_held`.
public struct HeldRow: Hashable, Sendable {
    public var table: String
    public var key: RowKey
    public var reason: String
    public var attempts: Int
    public var firstFailedAt: Date
}

extension DealerDatabase {
    /// Rows from HQ the DMS has refused so far, oldest first.
    public func heldRows(limit: Int = 100) throws -> [HeldRow] {
        try read { db in
            guard try db.tableExists("_dealersync_held") else { return [] }
            return try Row.fetchAll(
                db, sql: "SELECT table_name, row_key, reason, attempts, first_failed_at FROM _dealersync_held ORDER BY first_failed_at LIMIT ?",
                arguments: [limit]
            ).map { row in
                HeldRow(
                    table: row["table_name"], key: try RowKey(bytes: Array(row["row_key"] as Data)), reason: row["reason"],
                    attempts: row["attempts"], firstFailedAt: Date(timeIntervalSince1970: Double(row["first_failed_at"] as Int64) / 1000))
            }
        }
    }

    /// Tries the held rows again (the agent does this each cycle), oldest first, at most
    /// 1,000. Rows the DMS now takes leave the held table; the others stay, with their
    /// attempt counted. Rows of a table that is not in the DMS database yet, or not
    /// registered yet, are not tried (nor counted): they wait until it is.
    @discardableResult
    public func retryHeldRows(wallMillis: Int64) throws -> ApplyReport {
        let versions = try read { db -> [RowVersion] in
            guard try db.tableExists("_dealersync_held"),
                try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM _dealersync_held)") == true
            else { return [] }
            let ready = try HeldRows.readyTables(db).sorted()
            guard !ready.isEmpty else { return [] }
            let placeholders = ready.map { _ in "?" }.joined(separator: ", ")
            return try Data.fetchAll(
                db, sql: "SELECT version FROM _dealersync_held WHERE table_name IN (\(placeholders)) ORDER BY first_failed_at LIMIT 1000",
                arguments: StatementArguments(ready)
            ).map { try RowVersion(canonicalBytes: Array($0)) }
        }
        guard !versions.isEmpty else { return ApplyReport() }
        return try apply(versions, cursor: nil, wallMillis: wallMillis)
    }
}
