import Foundation
import GRDB
import SyncCore

/// HQ's merged data as SQL tables (docs/HQ-TABLES.md): one table per synced table, named
/// exactly as in the DMS, in a file of their own attached as `hq_tables`, kept in the same
/// transaction as the merge so it is never behind the feed.
///
/// First step of the design: tables whose columns the sync schema declares (`columns:` and
/// `key:`). A row is identified by HQ's key bytes (`_row_key`): SQLite compares `'1'`, `1`
/// and `1.0` as one key, HQ does not. Provenance columns: `_origin` (the store that created
/// the row), `_changed_by` and `_changed_at_ms` (node and HLC time of the newest write),
/// `_feed_seq`; an `up` table has `_dealer` too. A deleted row leaves its table.
struct TablesWriter: Sendable {
    static let schemaName = "hq_tables"
    let tables: [String: Layout]

    struct Layout: Sendable {
        let spec: TableSpec
        let columns: [ColumnSpec]
        let key: [String]
        let upsert: String
        let delete: String

        init(spec: TableSpec, columns: [ColumnSpec], key: [String]) {
            self.spec = spec
            self.columns = columns
            self.key = key
            let table = "\(TablesWriter.schemaName).\(quotedName(spec.name))"
            let names = ["_row_key"] + (spec.direction == .up ? ["_dealer"] : []) + columns.map(\.name) + TablesWriter.provenance.map(\.name)
            upsert = """
                INSERT INTO \(table) (\(names.map(quotedName).joined(separator: ", "))) VALUES (\(names.map { _ in "?" }.joined(separator: ", ")))
                ON CONFLICT ("_row_key") DO UPDATE SET \(names.dropFirst().map { "\(quotedName($0)) = excluded.\(quotedName($0))" }.joined(separator: ", "))
                """
            delete = "DELETE FROM \(table) WHERE \"_row_key\" = ?"
        }

        var createTable: String {
            let definitions = [#""_row_key" BLOB NOT NULL UNIQUE"#] + (spec.direction == .up ? [#""_dealer" TEXT NOT NULL"#] : [])
                + columns.map { "\(quotedName($0.name)) \($0.declaredType)" }
                + TablesWriter.provenance.map { "\(quotedName($0.name)) \($0.declaredType)" }
            return "CREATE TABLE IF NOT EXISTS \(TablesWriter.schemaName).\(quotedName(spec.name)) (\(definitions.joined(separator: ", ")))"
        }

        /// An index on the DMS key (with `_dealer` first for `up`), and the schema's `indexes`.
        var createIndexes: [String] {
            let keyIndex = (spec.direction == .up ? ["_dealer"] : []) + key
            return ([keyIndex] + spec.indexes).enumerated().map { number, columns in
                "CREATE INDEX IF NOT EXISTS \(TablesWriter.schemaName).\(quotedName("_dealersync_ix_\(spec.name)_\(number)")) ON \(quotedName(spec.name)) (\(columns.map(quotedName).joined(separator: ", ")))"
            }
        }
    }

    static let provenance = [
        ColumnSpec(name: "_origin", declaredType: "TEXT"), ColumnSpec(name: "_changed_by", declaredType: "TEXT"),
        ColumnSpec(name: "_changed_at_ms", declaredType: "INTEGER"), ColumnSpec(name: "_feed_seq", declaredType: "INTEGER"),
    ]

    /// The tables the schema declares columns for.
    init(schema: SyncSchema) {
        var tables: [String: Layout] = [:]
        for spec in schema.tables {
            guard let columns = spec.columns, let key = spec.key else { continue }
            tables[spec.name] = Layout(spec: spec, columns: columns, key: key)
        }
        self.tables = tables
    }

    /// Creates the tables and indexes that are missing. Idempotent.
    func ensureTables(_ db: Database) throws {
        for layout in tables.values.sorted(by: { $0.spec.name < $1.spec.name }) {
            try db.execute(sql: layout.createTable)
            for index in layout.createIndexes { try db.execute(sql: index) }
        }
    }

    /// Shows `merged` (just written to `rows` and the feed at `sequence`) in its table, in
    /// the caller's transaction: the row as the table's policy shows it, or gone.
    func apply(_ db: Database, table: String, merged: RowVersion, sequence: Int64) throws {
        guard let layout = tables[table] else { return }
        let rowKey = Data(merged.key.bytes)
        guard merged.isAlive(policy: layout.spec.policy) else {
            try db.cachedStatement(sql: layout.delete).execute(arguments: [rowKey])
            return
        }
        var keyValues = merged.key.values
        var arguments: [DatabaseValueConvertible?] = [rowKey]
        if layout.spec.direction == .up {
            // `up` rows are keyed (dealer, local key…) at HQ.
            arguments.append(keyValues.first.map(Self.databaseValue))
            keyValues = Array(keyValues.dropFirst())
        }
        let shown = merged.values(policy: layout.spec.policy)
        for column in layout.columns {
            if let position = layout.key.firstIndex(of: column.name) {
                arguments.append(position < keyValues.count ? Self.databaseValue(keyValues[position]) : DatabaseValue.null)
            } else {
                arguments.append(Self.databaseValue(shown[column.name] ?? .null))
            }
        }
        let latest = Self.latestWrite(merged)
        arguments += [merged.origin.node.rawValue, latest.node.rawValue, Int64(latest.hlc.physicalMillis), sequence]
        try db.cachedStatement(sql: layout.upsert).execute(arguments: StatementArguments(arguments))
    }

    /// The newest write of the row (existence or a column): who changed it last, and when.
    static func latestWrite(_ version: RowVersion) -> (node: NodeID, hlc: HLCTimestamp) {
        var newest = (node: version.liveness[0].dot.node, hlc: version.liveness[0].hlc)
        for write in version.liveness where write.hlc > newest.hlc { newest = (write.dot.node, write.hlc) }
        for writes in version.columns.values {
            for write in writes where write.hlc > newest.hlc { newest = (write.dot.node, write.hlc) }
        }
        return newest
    }

    static func databaseValue(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .integer(let number): number.databaseValue
        case .real(let number): number.databaseValue
        case .text(let text): text.databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        }
    }
}

/// `"name"`, inner quotes doubled.
private func quotedName(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
