import DataQuality
import Foundation
import GRDB
import SyncCore

/// Keeps each row's data-quality issues (docs/QUALITY.md) in HQ's tables file, in the
/// merge's transaction: `_dealersync_quality_issues`, each open issue with the row's key as
/// the store knows it and what to correct, never the value. A merge replaces the row's
/// issues, so a fixed value closes its issue and a broken one opens it. A clean row costs one
/// indexed DELETE; the rows a dealer is scored on are counted from the SQL tables.
///
/// A row is scored against the store responsible for it (`responsibleDealer`): for `up` rows
/// the store they belong to; else the store the routing column names (e.g. `home_dealer`),
/// else the store that created it. That store holds the row, so it only ever hears of rows
/// it has.
struct QualityWriter: Sendable {
    static let schemaName = HQTables.schemaName
    let evaluators: [String: QualityEvaluator]
    let schema: SyncSchema

    init(schema: SyncSchema) {
        self.schema = schema
        var evaluators: [String: QualityEvaluator] = [:]
        for spec in schema.tables where !spec.quality.isEmpty { evaluators[spec.name] = QualityEvaluator(rules: spec.quality) }
        self.evaluators = evaluators
    }

    static func ensure(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS \(schemaName)._dealersync_quality_issues (
                table_name TEXT NOT NULL, _row_key BLOB NOT NULL, column_name TEXT NOT NULL, rule TEXT NOT NULL,
                dealer TEXT NOT NULL, key_json TEXT NOT NULL, hint TEXT NOT NULL, _feed_seq INTEGER NOT NULL,
                PRIMARY KEY (table_name, _row_key, column_name)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS \(schemaName)._dealersync_quality_issues_by_dealer ON _dealersync_quality_issues (dealer, table_name);
            -- A snapshot of every dealer's fields a day (the day's last), for a trend.
            CREATE TABLE IF NOT EXISTS \(schemaName)._dealersync_quality_daily (
                day TEXT NOT NULL, dealer TEXT NOT NULL, table_name TEXT NOT NULL, column_name TEXT NOT NULL,
                rows INTEGER NOT NULL, missing INTEGER NOT NULL, invalid INTEGER NOT NULL, shared INTEGER NOT NULL, valid_share REAL NOT NULL,
                PRIMARY KEY (day, dealer, table_name, column_name)) WITHOUT ROWID;
            """)
    }

    /// Replaces the issues of `merged` (just merged at `sequence`, showing `shown`); a deleted
    /// row has none.
    func apply(
        _ db: Database, spec: TableSpec, merged: RowVersion, shown: [String: SQLValue], alive: Bool, keyColumns: [String]?, sequence: Int64,
        today: String, isNew: Bool
    ) throws {
        guard let evaluator = evaluators[spec.name] else { return }
        let rowKey = Data(merged.key.bytes)
        if !isNew {
            try db.cachedStatement(sql: "DELETE FROM \(Self.schemaName)._dealersync_quality_issues WHERE table_name = ? AND _row_key = ?")
                .execute(arguments: [spec.name, rowKey])
        }
        guard alive else { return }
        let keyValues = merged.storeKeyValues(spec)
        let values = merged.withKeyColumns(shown, spec: spec, keyColumns: keyColumns ?? spec.key ?? [])
        let issues = evaluator.issues(values, today: today)
        guard !issues.isEmpty else { return }
        let dealer = Self.responsibleDealer(spec: spec, merged: merged, values: values)
        let keyJSON = String(decoding: try JSONEncoder.sorted.encode(keyValues.map(TypedValue.init)), as: UTF8.self)
        for issue in issues {
            try db.cachedStatement(sql: """
                INSERT INTO \(Self.schemaName)._dealersync_quality_issues (table_name, _row_key, column_name, rule, dealer, key_json, hint, _feed_seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [spec.name, rowKey, issue.column, issue.rule.rawValue, dealer, keyJSON, issue.hint, sequence])
        }
    }

    /// The store a row is scored against; `dealerSQL` says the same in SQL over the table.
    static func responsibleDealer(spec: TableSpec, merged: RowVersion, values: [String: SQLValue]) -> String {
        if spec.direction == .up, case .text(let dealer)? = merged.key.values.first { return dealer }
        if let column = spec.routingColumn, case .text(let dealer)? = values[column] { return dealer }
        return merged.origin.node.rawValue
    }

    /// `responsibleDealer` over a row of the table's SQL table.
    static func dealerSQL(_ spec: TableSpec) -> String {
        if spec.direction == .up { return "\"_dealer\"" }
        if let column = spec.routingColumn {
            return "coalesce(CASE WHEN typeof(\(quotedName(column))) = 'text' THEN \(quotedName(column)) END, \"_origin\")"
        }
        return "\"_origin\""
    }

    /// Today in UTC as YYYY-MM-DD, for `max: today`. Called for every write transaction, so
    /// plain calendar arithmetic (days since 1970 to a civil date) instead of a DateFormatter.
    static func today(_ now: Date = Date()) -> String {
        let days = Int((now.timeIntervalSince1970 / 86_400).rounded(.down)) + 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))"
    }
}
