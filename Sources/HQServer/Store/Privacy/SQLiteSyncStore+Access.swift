import Foundation
import GRDB

/// Access records (docs/PRIVACY.md): who at HQ read whose personal data.
extension SQLiteSyncStore {
    public func recordAccess(_ record: AccessRecord) async throws {
        try await pool.write { db in try Self.insert(db, record) }
    }

    static func insert(_ db: Database, _ record: AccessRecord) throws {
        try db.execute(
            sql: "INSERT INTO access_log (at_ms, who, kind, tables, rows, detail) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [record.atMillis, record.who, record.kind.rawValue, record.tables.sorted().joined(separator: ","), record.rows, record.detail])
    }

    /// The newest records first, since `sinceMillis`, of `who` when given.
    public func accessLog(sinceMillis: Int64, who: String?, limit: Int) async throws -> [AccessRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT at_ms, who, kind, tables, rows, detail FROM access_log
                    WHERE at_ms >= ? AND (? IS NULL OR who = ?) ORDER BY at_ms DESC, id DESC LIMIT ?
                    """,
                arguments: [sinceMillis, who, who, max(1, limit)]
            ).map { row in
                AccessRecord(
                    atMillis: row["at_ms"], who: row["who"], kind: AccessRecord.Kind(rawValue: row["kind"]) ?? .feed,
                    tables: (row["tables"] as String).split(separator: ",").map(String.init), rows: row["rows"], detail: row["detail"])
            }
        }
    }

    /// Drops records older than `olderThanMillis` (retention.access_log_days); returns how many.
    @discardableResult
    public func purgeAccessLog(olderThanMillis: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM access_log WHERE at_ms < ?", arguments: [olderThanMillis])
            return db.changesCount
        }
    }

    /// Drops dead letters and conflict records older than `olderThanMillis`
    /// (retention.personal_data_days): both keep customer values (a refused row's bytes,
    /// both sides of a conflict). Returns (dead letters, conflicts) removed.
    @discardableResult
    public func purgePersonalRecords(olderThanMillis: Int64) async throws -> (deadLetters: Int, conflicts: Int) {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM dead_letters WHERE at_ms < ?", arguments: [olderThanMillis])
            let deadLetters = db.changesCount
            try db.execute(sql: "DELETE FROM conflicts WHERE at_ms < ?", arguments: [olderThanMillis])
            return (deadLetters, db.changesCount)
        }
    }
}
