import Foundation
import GRDB

/// A pushed row that HQ did not take as sent, as its push receipt names it: `refused` (kept
/// in HQ's dead letters, not merged) or `overruled` (merged, but columns this store may not
/// write kept HQ's value, which comes back at the next pull). Reasons name the row index,
/// table and columns, never a value.
public struct HQNotice: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable {
        case refused
        case overruled
    }

    public var row: Int
    public var table: String
    public var kind: Kind
    public var reason: String

    public init(row: Int, table: String, kind: Kind, reason: String) {
        self.row = row
        self.table = table
        self.kind = kind
        self.reason = reason
    }
}

extension DealerDatabase {
    /// The newest notices kept for `status`.
    static let keptNotices = 1_000

    /// Keeps what HQ's receipt for `batch` said about rows it did not take as sent.
    public func recordHQNotices(_ notices: [HQNotice], batch: String, at date: Date = Date()) throws {
        guard !notices.isEmpty else { return }
        try write { db in
            for notice in notices {
                try db.execute(
                    sql: "INSERT INTO _dealersync_hq_notices (batch, row_index, table_name, kind, reason, received_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [batch, notice.row, notice.table, notice.kind.rawValue, notice.reason, Int64(date.timeIntervalSince1970 * 1000)])
            }
            try db.execute(
                sql: "DELETE FROM _dealersync_hq_notices WHERE id <= (SELECT max(id) FROM _dealersync_hq_notices) - ?",
                arguments: [Self.keptNotices])
        }
    }

    /// Counts of kept notices by kind, and the newest of each, for `status`.
    static func hqNoticeSummary(_ db: Database) throws -> [HQNotice.Kind: (count: Int, newest: String)] {
        guard try db.tableExists("_dealersync_hq_notices") else { return [:] }
        var summary: [HQNotice.Kind: (count: Int, newest: String)] = [:]
        for row in try Row.fetchAll(db, sql: """
                SELECT kind, count(*) AS n, (SELECT reason FROM _dealersync_hq_notices i WHERE i.kind = o.kind ORDER BY id DESC LIMIT 1) AS newest
                FROM _dealersync_hq_notices o GROUP BY kind
                """)
        {
            guard let kind = HQNotice.Kind(rawValue: row["kind"]) else { continue }
            summary[kind] = (row["n"], row["newest"])
        }
        return summary
    }
}
