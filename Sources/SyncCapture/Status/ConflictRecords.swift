import Foundation
import GRDB
import SyncCore

/// A conflict as logged in `_dealersync_conflicts`: which column of which row, how it was
/// decided, and the writes involved (values stay in the table; they are customer data).
public struct ConflictRecord: Hashable, Sendable {
    public var id: Int64
    public var table: String
    public var key: RowKey
    /// Nil for a delete against an update.
    public var column: String?
    public var reason: String
    /// The winning write (`node:counter`) and the losing ones.
    public var winner: String
    public var losers: [String]
    public var decidedAt: Date
}

extension DealerDatabase {
    /// Logged conflicts, newest first.
    public func conflicts(limit: Int = 100) throws -> [ConflictRecord] {
        try read { db in
            try requireInstalled(db)
            return try Row.fetchAll(
                db, sql: "SELECT id, table_name, row_key, column_name, reason, winner, losers, decided_at FROM _dealersync_conflicts ORDER BY id DESC LIMIT ?",
                arguments: [limit]
            ).map { row in
                ConflictRecord(
                    id: row["id"], table: row["table_name"], key: try RowKey(bytes: Array(row["row_key"] as Data)),
                    column: row["column_name"], reason: row["reason"], winner: row["winner"],
                    losers: (row["losers"] as String).split(separator: ",").map(String.init),
                    decidedAt: Date(timeIntervalSince1970: Double(row["decided_at"] as Int64) / 1000))
            }
        }
    }
}
