import Foundation
import GRDB
import SyncCore

/// A conflict as logged in `_dealersync_conflicts`: which column of which row, how it was
/// decided, and the writes involved. The values are customer data: they are shown by
/// `dealersync conflicts show` to the operator, and never logged.
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
    /// For column conflicts: the value shown now, and the values that lost (one per loser).
    public var winningValue: SQLValue?
    public var losingValues: [SQLValue]
    public var decidedAt: Date
    /// When an operator resolved it (`dealersync conflicts resolve`), nil while it awaits review.
    public var resolvedAt: Date?
}

extension DealerDatabase {
    /// Logged conflicts, newest first; those already resolved only with `includeResolved`.
    public func conflicts(includeResolved: Bool = true, limit: Int = 100) throws -> [ConflictRecord] {
        try read { db in
            try requireInstalled(db)
            return try Row.fetchAll(
                db,
                sql: "SELECT * FROM _dealersync_conflicts \(includeResolved ? "" : "WHERE resolved_at IS NULL") ORDER BY id DESC LIMIT ?",
                arguments: [limit]
            ).map(ConflictRecord.init(row:))
        }
    }

    /// One logged conflict, or an error naming the id and how to list the others.
    public func conflict(id: Int64) throws -> ConflictRecord {
        try read { db in
            try requireInstalled(db)
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM _dealersync_conflicts WHERE id = ?", arguments: [id]) else {
                throw CaptureError(.noSuchConflict, "there is no conflict #\(id) in \(settings.databasePath)", hint: "`dealersync conflicts list` shows their numbers")
            }
            return try ConflictRecord(row: row)
        }
    }
}

extension ConflictRecord {
    init(row: Row) throws {
        func values(_ data: Data?) throws -> [SQLValue] {
            guard let data else { return [] }
            var reader = ByteReader(Array(data))
            return try (0..<Int(try reader.readVarint())).map { _ in try SQLValue.read(from: &reader) }
        }
        id = row["id"]
        table = row["table_name"]
        key = try RowKey(bytes: Array(row["row_key"] as Data))
        column = row["column_name"]
        reason = row["reason"]
        winner = row["winner"]
        losers = (row["losers"] as String).split(separator: ",").map(String.init)
        winningValue = try values(row["winning_value"]).first
        losingValues = try values(row["losing_values"])
        decidedAt = Date(timeIntervalSince1970: Double(row["decided_at"] as Int64) / 1000)
        resolvedAt = (row["resolved_at"] as Int64?).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }
}
