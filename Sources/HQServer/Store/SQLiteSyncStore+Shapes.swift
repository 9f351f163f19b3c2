import Foundation
import GRDB
import SyncCore

/// What HQ answers a shape report: which tables it took, which it ignored (not in the sync
/// schema), the columns HQ's SQL tables gained, and what the report could not change.
public struct ShapeOutcome: Codable, Sendable, Hashable {
    public struct Refusal: Codable, Sendable, Hashable {
        public var table: String
        public var column: String?
        public var reason: String
    }

    public var tables: Int
    public var ignoredTables: [String]
    public var addedColumns: [String]
    public var refused: [Refusal]

    enum CodingKeys: String, CodingKey {
        case tables, refused
        case ignoredTables = "ignored_tables"
        case addedColumns = "added_columns"
    }
}

extension SQLiteSyncStore {
    /// Stores `dealer`'s report of its tables' columns (only the tables whose report
    /// changed) and, for tables whose columns the schema does not declare, brings HQ's SQL
    /// tables to the layout all reports give, in one short write transaction. `report` has
    /// passed `ShapeController`'s checks.
    public func recordShape(dealer: NodeID, report: ShapeReport, schema: SyncSchema, atMillis: Int64) async throws -> ShapeOutcome {
        try await pool.write { db in
            var outcome = ShapeOutcome(tables: 0, ignoredTables: [], addedColumns: [], refused: [])
            for table in report.tables {
                guard let spec = schema.table(named: table.name) else {
                    outcome.ignoredTables.append(table.name)
                    continue
                }
                outcome.tables += 1
                let keyJSON = String(decoding: try JSONEncoder.sorted.encode(table.key), as: UTF8.self)
                let columnsJSON = String(decoding: try JSONEncoder.sorted.encode(table.columns), as: UTF8.self)
                let sha = BodyChecksum.sha256Hex(Array((keyJSON + "\n" + columnsJSON).utf8))
                try db.execute(
                    sql: """
                        INSERT INTO table_shapes (dealer, table_name, key_json, columns_json, sha256, first_ms, reported_ms)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (dealer, table_name) DO UPDATE SET key_json = excluded.key_json, columns_json = excluded.columns_json,
                          sha256 = excluded.sha256, reported_ms = excluded.reported_ms
                        WHERE sha256 <> excluded.sha256
                        """,
                    arguments: [dealer.rawValue, spec.name, keyJSON, columnsJSON, sha, atMillis, atMillis])
                guard db.changesCount > 0, let tables, spec.columns == nil else { continue }
                let learned = try tables.learn(db, spec: spec, dealer: dealer.rawValue)
                outcome.addedColumns += learned.added.map { "\(spec.name).\($0)" }
                outcome.refused += learned.refused.map { ShapeOutcome.Refusal(table: $0.table, column: $0.column, reason: $0.reason) }
            }
            return outcome
        }
    }
}
