import Foundation
import GRDB
import SyncCore

/// Tables whose columns the sync schema does not declare take their layout from the shapes
/// the stores report (`PUT /v1/dealers/{id}/shape`, kept in the store's `table_shapes`).
///
/// The rule (docs/HQ.md): reports are taken in the order they first arrived (then by dealer
/// id). The key is the first report's. Columns are the union in order of first appearance,
/// matched without case as SQLite does; a column keeps the type it first came with, so
/// another store's different type only makes its values mismatches (counted). At most
/// `maxColumns` columns. A column added later is an `ALTER TABLE … ADD COLUMN`, with no
/// downtime; a wrong first type needs a declaration and `hq rebuild-tables`.
extension HQTables {
    /// What the reports of one dealer could not change, said to that dealer.
    struct ShapeRefusal: Sendable, Hashable, Codable {
        var table: String
        var column: String?
        var reason: String
    }

    /// The layout all reports of `spec`'s table give, and what each dealer's report could not
    /// change (by dealer).
    func learnedLayout(_ db: Database, spec: TableSpec) throws -> (layout: TableLayout?, refusals: [String: [ShapeRefusal]]) {
        var key: [String]?
        var columns: [ColumnSpec] = []
        var position: [String: Int] = [:]
        var refusals: [String: [ShapeRefusal]] = [:]
        let reports = try Row.fetchAll(
            db, sql: "SELECT dealer, key_json, columns_json FROM table_shapes WHERE table_name = ? ORDER BY first_ms, dealer",
            arguments: [spec.name])
        for report in reports {
            let dealer: String = report["dealer"]
            guard let reportKey = try? JSONDecoder().decode([String].self, from: Data((report["key_json"] as String).utf8)),
                let reportColumns = try? JSONDecoder().decode([ShapeReport.Column].self, from: Data((report["columns_json"] as String).utf8))
            else { continue }
            if let key, key.map({ $0.lowercased() }) != reportKey.map({ $0.lowercased() }) {
                refusals[dealer, default: []].append(ShapeRefusal(
                    table: spec.name, column: nil,
                    reason: "the key (\(reportKey.joined(separator: ", "))) differs from HQ's table key (\(key.joined(separator: ", "))); rows still merge by HQ's key bytes"))
            }
            key = key ?? reportKey
            for column in reportColumns {
                if let index = position[column.name.lowercased()] {
                    if columns[index].declaredType.uppercased() != column.type.uppercased() {
                        refusals[dealer, default: []].append(ShapeRefusal(
                            table: spec.name, column: column.name,
                            reason: "type \(column.type.isEmpty ? "(none)" : column.type) differs from HQ's \(columns[index].declaredType.isEmpty ? "(none)" : columns[index].declaredType); values that do not fit are counted as mismatches"))
                    }
                } else if columns.count >= maxColumns {
                    refusals[dealer, default: []].append(ShapeRefusal(
                        table: spec.name, column: column.name,
                        reason: "the table has limits.max_table_columns (\(maxColumns)) columns already; declare the columns in the sync schema"))
                } else {
                    position[column.name.lowercased()] = columns.count
                    columns.append(ColumnSpec(name: column.name, declaredType: column.type))
                }
            }
        }
        guard let key, !columns.isEmpty else { return (nil, refusals) }
        return (TableLayout(spec: spec, columns: columns, key: key), refusals)
    }

    /// Brings the SQL table of `spec` (not declared) to the layout the reports give, after
    /// `dealer`'s report changed: creates it, or adds the new columns. Fills it from the
    /// store's rows when it is new, or when rows already carry an added column. Returns the
    /// columns added and what `dealer`'s report could not change.
    func learn(_ db: Database, spec: TableSpec, dealer: String) throws -> (added: [String], refused: [ShapeRefusal]) {
        let (learned, refusals) = try learnedLayout(db, spec: spec)
        guard let learned else { return ([], refusals[dealer] ?? []) }
        guard let current = try layouts(db)[spec.name] else {
            try create(db, learned: learned, firstDealer: dealer)
            try startFill(db, table: spec.name)
            return (learned.columns.map(\.name), refusals[dealer] ?? [])
        }
        let added = learned.columns.filter { !current.knownColumns.contains($0.name.lowercased()) }
        for column in added { try db.execute(sql: current.addColumn(column)) }
        let carried = try String.fetchAll(
            db, sql: "SELECT column_name FROM \(Self.schemaName)._dealersync_unshaped WHERE table_name = ?", arguments: [spec.name])
        let addedNames = Set(added.map { $0.name.lowercased() })
        if carried.contains(where: { addedNames.contains($0.lowercased()) }) {
            try db.execute(sql: "DELETE FROM \(Self.schemaName)._dealersync_unshaped WHERE table_name = ?", arguments: [spec.name])
            try startFill(db, table: spec.name)
        }
        return (added.map(\.name), refusals[dealer] ?? [])
    }

    /// Creates a learned table and its key index, and records its key.
    func create(_ db: Database, learned: TableLayout, firstDealer: String?) throws {
        let keyJSON = String(decoding: try JSONEncoder.sorted.encode(learned.key), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO \(Self.schemaName)._dealersync_layouts (table_name, key_json, first_dealer, created_ms) VALUES (?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET key_json = excluded.key_json
                """,
            arguments: [learned.spec.name, keyJSON, firstDealer ?? "", Date.nowMillis])
        try db.execute(sql: learned.createTable())
        for index in learned.createIndexes { try db.execute(sql: index) }
    }
}
