import DataQuality
import Foundation
import GRDB
import SQLiteValues
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
        /// The score of each day with a snapshot, oldest first (the last 30).
        public var trend: [DayScore] = []
    }

    public struct DayScore: Codable, Sendable, Hashable {
        /// YYYY-MM-DD (UTC).
        public var day: String
        public var score: Double
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
        guard let tables, tables.quality != nil else { return QualityReport(score: 1, dealers: []) }
        return try await pool.read { db in
            let layouts = try tables.layouts(db)
            let ruled = schema.tables.filter { !$0.quality.isEmpty && layouts[$0.name] != nil }
            var rows: [String: [String: Int]] = [:]  // dealer → table → rows scored
            for spec in ruled {
                let who = QualityWriter.dealerSQL(spec)
                for row in try Row.fetchAll(
                    db, sql: "SELECT \(who) AS dealer, count(*) AS n FROM \(TableLayout.qualified(spec.name))\(dealer == nil ? "" : " WHERE \(who) = ?") GROUP BY 1",
                    arguments: dealer.map { [$0] } ?? [])
                {
                    rows[row["dealer"] ?? "?", default: [:]][spec.name] = row["n"]
                }
            }
            var counts: [String: (missing: Int, invalid: Int, shared: Int)] = [:]  // "dealer|table|column"
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT dealer, table_name, column_name, rule = 'missing' AS missing, count(*) AS n FROM \(HQTables.schemaName)._dealersync_quality_issues
                    \(dealer == nil ? "" : "WHERE dealer = ?") GROUP BY 1, 2, 3, 4
                    """,
                arguments: dealer.map { [$0] } ?? [])
            {
                let id = "\(row["dealer"] as String)|\(row["table_name"] as String)|\(row["column_name"] as String)"
                if row["missing"] as Bool { counts[id, default: (0, 0, 0)].missing += row["n"] } else { counts[id, default: (0, 0, 0)].invalid += row["n"] }
            }
            for spec in ruled {
                for rule in spec.quality {
                    guard let limit = rule.sharedLimit, let shared = Self.sharedValues(spec, column: rule.column, limit: limit, layout: layouts[spec.name]) else { continue }
                    let who = QualityWriter.dealerSQL(spec)
                    for row in try Row.fetchAll(
                        db, sql: "SELECT \(who) AS dealer, count(*) AS n \(shared)\(dealer == nil ? "" : " AND \(who) = ?") GROUP BY 1",
                        arguments: dealer.map { [$0] } ?? [])
                    {
                        counts["\(row["dealer"] ?? "?")|\(spec.name)|\(rule.column)", default: (0, 0, 0)].shared += row["n"]
                    }
                }
            }
            var dealers: [QualityReport.Dealer] = []
            for (id, tables) in rows.sorted(by: { $0.key < $1.key }) {
                var fields: [QualityReport.Field] = []
                for spec in ruled {
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
                let trend = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT day, avg(valid_share) AS score FROM \(HQTables.schemaName)._dealersync_quality_daily
                        WHERE dealer = ? GROUP BY day ORDER BY day DESC LIMIT 30
                        """,
                    arguments: [id]
                ).reversed().map { QualityReport.DayScore(day: $0["day"], score: $0["score"]) }
                dealers.append(QualityReport.Dealer(dealer: id, rows: tables.values.reduce(0, +), score: score, fields: fields, trend: trend))
            }
            let score = dealers.isEmpty ? 1 : dealers.map(\.score).reduce(0, +) / Double(dealers.count)
            return QualityReport(score: score, dealers: dealers)
        }
    }

    /// Records today's report (`day`, YYYY-MM-DD) as the day's snapshot, replacing an earlier
    /// one of the same day; `hq serve` runs it every hour. Returns the fields kept.
    @discardableResult
    public func recordQualitySnapshot(schema: SyncSchema, day: String) async throws -> Int {
        guard tables?.quality != nil else { return 0 }
        let report = try await qualityReport(schema: schema, dealer: nil)
        return try await pool.write { db in
            try db.execute(sql: "DELETE FROM \(HQTables.schemaName)._dealersync_quality_daily WHERE day = ?", arguments: [day])
            var kept = 0
            for dealer in report.dealers {
                for field in dealer.fields {
                    try db.execute(
                        sql: """
                            INSERT INTO \(HQTables.schemaName)._dealersync_quality_daily
                              (day, dealer, table_name, column_name, rows, missing, invalid, shared, valid_share) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [day, dealer.dealer, field.table, field.column, field.rows, field.missing, field.invalid, field.shared, field.validShare])
                    kept += 1
                }
            }
            return kept
        }
    }

    /// A store's own open issues (at most `limit`), its shared values included.
    public func qualityIssues(dealer: String, schema: SyncSchema, limit: Int) async throws -> [StoreQualityIssue] {
        guard let tables, tables.quality != nil else { return [] }
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
                    table: row["table_name"], key: (try? JSONDecoder().decode([TypedValue].self, from: Data((row["key_json"] as String).utf8))) ?? [],
                    column: row["column_name"], rule: row["rule"], hint: row["hint"])
            }
            let layouts = try tables.layouts(db)
            for spec in schema.tables {
                guard let layout = layouts[spec.name] else { continue }
                for rule in spec.quality {
                    guard issues.count < limit, let sharedLimit = rule.sharedLimit,
                        let shared = Self.sharedValues(spec, column: rule.column, limit: sharedLimit, layout: layout)
                    else { continue }
                    let keys = try Row.fetchAll(
                        db, sql: "SELECT \(layout.key.map(quotedName).joined(separator: ", ")) \(shared) AND \(QualityWriter.dealerSQL(spec)) = ? LIMIT ?",
                        arguments: [dealer, limit - issues.count])
                    for key in keys {
                        issues.append(StoreQualityIssue(
                            table: spec.name, key: layout.key.map { TypedValue(SQLValue(databaseValue: key[$0] as DatabaseValue)) }, column: rule.column,
                            rule: QualityIssue.Rule.shared.rawValue,
                            hint: "\(rule.column) is held by more than \(sharedLimit) records; enter the customer's own value"))
                    }
                }
            }
            return issues
        }
    }

    /// `FROM … WHERE …` of the rows of `spec`'s SQL table whose `column` value more than
    /// `limit` rows hold; nil when the table does not have the column.
    private static func sharedValues(_ spec: TableSpec, column: String, limit: Int, layout: TableLayout?) -> String? {
        guard let layout, layout.knownColumns.contains(column.lowercased()) else { return nil }
        let table = layout.qualifiedName
        let c = quotedName(column)
        return "FROM \(table) WHERE \(c) IN (SELECT \(c) FROM \(table) WHERE \(c) IS NOT NULL GROUP BY \(c) HAVING count(*) > \(limit))"
    }
}
