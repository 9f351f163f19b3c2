import DataQuality
import Foundation
import GRDB
import SyncCore

/// Data quality per dealer, table and column (docs/QUALITY.md), read from the issues the
/// merges keep (`QualityWriter`) plus the shared-value rule, which needs every row at once
/// and is counted when asked (an index on the column makes it cheap).
public struct QualityReport: Codable, Sendable, Hashable {
    public struct Field: Codable, Sendable, Hashable {
        public var table: String
        public var column: String
        public var rows: Int
        public var missing: Int
        public var invalid: Int
        public var shared: Int
        /// Share of rows whose value breaks no rule (empty optional values count as fine).
        public var validShare: Double
        public var description: String?
        public var definition: String?

        enum CodingKeys: String, CodingKey {
            case table, column, rows, missing, invalid, shared, description, definition
            case validShare = "valid_share"
        }
    }

    public struct Dealer: Codable, Sendable, Hashable {
        public var dealer: String
        /// Rows of tables with rules scored against this store.
        public var rows: Int
        /// The mean valid share of its fields, 0…1.
        public var score: Double
        /// Worst first.
        public var fields: [Field]
    }

    public var score: Double
    public var dealers: [Dealer]
}

/// One open issue of one of a store's own rows, as the store receives it: the row's key as
/// the DMS knows it and what to correct, never a value.
public struct StoreQualityIssue: Codable, Sendable, Hashable {
    public var table: String
    public var key: [TypedValue]
    public var column: String
    public var rule: String
    public var hint: String
}

extension SQLiteSyncStore {
    public func qualityReport(schema: SyncSchema, dealer: String?) async throws -> QualityReport {
        guard tables?.quality != nil else { return QualityReport(score: 1, dealers: []) }
        return try await pool.read { db in
            let filter = dealer == nil ? "" : " WHERE dealer = ?"
            let arguments: StatementArguments = dealer.map { [$0] } ?? []
            var rows: [String: [String: Int]] = [:]  // dealer → table → rows
            for row in try Row.fetchAll(
                db, sql: "SELECT dealer, table_name, count(*) AS n FROM \(HQTables.schemaName)._dealersync_quality_rows\(filter) GROUP BY 1, 2",
                arguments: arguments)
            {
                rows[row["dealer"], default: [:]][row["table_name"]] = row["n"]
            }
            var counts: [String: (missing: Int, invalid: Int, shared: Int)] = [:]  // "dealer|table|column"
            for row in try Row.fetchAll(
                db,
                sql: "SELECT dealer, table_name, column_name, rule = 'missing' AS missing, count(*) AS n FROM \(HQTables.schemaName)._dealersync_quality_issues\(filter) GROUP BY 1, 2, 3, 4",
                arguments: arguments)
            {
                let id = "\(row["dealer"] as String)|\(row["table_name"] as String)|\(row["column_name"] as String)"
                if row["missing"] as Bool { counts[id, default: (0, 0, 0)].missing += row["n"] } else { counts[id, default: (0, 0, 0)].invalid += row["n"] }
            }
            for (spec, rule, limit) in schema.tables.flatMap({ spec in spec.quality.compactMap { rule in rule.sharedLimit.map { (spec, rule, $0) } } }) {
                for row in try Self.sharedValueRows(db, table: spec.name, column: rule.column, limit: limit, dealer: dealer) {
                    counts["\(row.dealer)|\(spec.name)|\(rule.column)", default: (0, 0, 0)].shared += row.rows
                }
            }
            var dealers: [QualityReport.Dealer] = []
            for (id, tables) in rows.sorted(by: { $0.key < $1.key }) {
                var fields: [QualityReport.Field] = []
                for spec in schema.tables {
                    guard let count = tables[spec.name], count > 0 else { continue }
                    for rule in spec.quality {
                        let found = counts["\(id)|\(spec.name)|\(rule.column)"] ?? (0, 0, 0)
                        let bad = min(count, found.missing + found.invalid + found.shared)
                        fields.append(QualityReport.Field(
                            table: spec.name, column: rule.column, rows: count, missing: found.missing, invalid: found.invalid, shared: found.shared,
                            validShare: Double(count - bad) / Double(count), description: rule.description, definition: rule.definition))
                    }
                }
                fields.sort { ($0.validShare, $0.table, $0.column) < ($1.validShare, $1.table, $1.column) }
                let score = fields.isEmpty ? 1 : fields.map(\.validShare).reduce(0, +) / Double(fields.count)
                dealers.append(QualityReport.Dealer(dealer: id, rows: tables.values.reduce(0, +), score: score, fields: fields))
            }
            let score = dealers.isEmpty ? 1 : dealers.map(\.score).reduce(0, +) / Double(dealers.count)
            return QualityReport(score: score, dealers: dealers)
        }
    }

    /// A store's own open issues (at most `limit`), its shared values included.
    public func qualityIssues(dealer: String, schema: SyncSchema, limit: Int) async throws -> [StoreQualityIssue] {
        guard tables?.quality != nil else { return [] }
        return try await pool.read { db in
            var issues = try Row.fetchAll(
                db,
                sql: """
                    SELECT table_name, key_json, column_name, rule, hint FROM \(HQTables.schemaName)._dealersync_quality_issues
                    WHERE dealer = ? ORDER BY table_name, key_json, column_name LIMIT ?
                    """,
                arguments: [dealer, limit]
            ).map { row in
                StoreQualityIssue(
                    table: row["table_name"], key: Self.decodeKey(row["key_json"]), column: row["column_name"], rule: row["rule"], hint: row["hint"])
            }
            for spec in schema.tables {
                for rule in spec.quality {
                    guard let sharedLimit = rule.sharedLimit, issues.count < limit else { continue }
                    for key in try Self.sharedValueKeys(db, table: spec.name, column: rule.column, limit: sharedLimit, dealer: dealer) {
                        issues.append(StoreQualityIssue(
                            table: spec.name, key: Self.decodeKey(key), column: rule.column, rule: QualityIssue.Rule.shared.rawValue,
                            hint: "\(rule.column) is held by more than \(sharedLimit) records; enter the customer's own value"))
                    }
                }
            }
            return Array(issues.prefix(limit))
        }
    }

    private static func decodeKey(_ json: String) -> [TypedValue] {
        (try? JSONDecoder().decode([TypedValue].self, from: Data(json.utf8))) ?? []
    }

    /// `FROM` and `WHERE` of the rows of `table` whose `column` value more than `limit` rows hold.
    private static func sharedValueSQL(_ db: Database, table: String, column: String, limit: Int) throws -> String? {
        let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_xinfo(?, ?)", arguments: [table, HQTables.schemaName])
        guard columns.contains(column) else { return nil }
        let t = TableLayout.qualified(table)
        let c = quotedName(column)
        return """
            FROM \(t) t JOIN \(HQTables.schemaName)._dealersync_quality_rows q ON q.table_name = '\(table.replacingOccurrences(of: "'", with: "''"))' AND q._row_key = t._row_key
            WHERE t.\(c) IN (SELECT \(c) FROM \(t) WHERE \(c) IS NOT NULL GROUP BY \(c) HAVING count(*) > \(limit))
            """
    }

    private static func sharedValueRows(_ db: Database, table: String, column: String, limit: Int, dealer: String?) throws -> [(dealer: String, rows: Int)] {
        guard let from = try sharedValueSQL(db, table: table, column: column, limit: limit) else { return [] }
        return try Row.fetchAll(
            db, sql: "SELECT q.dealer, count(*) AS n \(from)\(dealer == nil ? "" : " AND q.dealer = ?") GROUP BY q.dealer",
            arguments: dealer.map { [$0] } ?? []
        ).map { ($0["dealer"], $0["n"]) }
    }

    private static func sharedValueKeys(_ db: Database, table: String, column: String, limit: Int, dealer: String) throws -> [String] {
        guard let from = try sharedValueSQL(db, table: table, column: column, limit: limit) else { return [] }
        return try String.fetchAll(db, sql: "SELECT q.key_json \(from) AND q.dealer = ? ORDER BY 1", arguments: [dealer])
    }
}
