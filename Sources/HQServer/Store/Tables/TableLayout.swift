import GRDB
import SyncCore

/// One of HQ's SQL tables as it is laid out: the DMS table's columns and declared types,
/// its key, and the SQL that writes it. Declared in the sync schema (`columns:`/`key:`), or
/// learned from the stores' shape reports (`HQTables+Shapes.swift`).
struct TableLayout: Sendable, Hashable {
    let spec: TableSpec
    let columns: [ColumnSpec]
    let key: [String]
    /// The table's columns in order: `_row_key`, `_dealer` (`up`), the DMS's, provenance.
    let names: [String]
    /// The DMS columns' names, lower-cased (SQLite compares names without case).
    let knownColumns: Set<String>
    /// Each DMS column's affinity, in `columns` order (parsed once, checked for every value).
    let affinities: [ColumnAffinity]
    let upsert: String
    let delete: String

    /// Provenance columns, after the DMS's (docs/HQ.md).
    static let provenance = [
        ColumnSpec(name: "_origin", declaredType: "TEXT"), ColumnSpec(name: "_changed_by", declaredType: "TEXT"),
        ColumnSpec(name: "_changed_at_ms", declaredType: "INTEGER"), ColumnSpec(name: "_feed_seq", declaredType: "INTEGER"),
    ]

    init(spec: TableSpec, columns: [ColumnSpec], key: [String]) {
        self.spec = spec
        self.columns = columns
        self.key = key
        names = ["_row_key"] + (spec.direction == .up ? ["_dealer"] : []) + columns.map(\.name) + Self.provenance.map(\.name)
        knownColumns = Set(columns.map { $0.name.lowercased() })
        affinities = columns.map { ColumnAffinity(declaredType: $0.declaredType) }
        let table = Self.qualified(spec.name)
        upsert = Self.upsert(into: table, names: names)
        delete = "DELETE FROM \(table) WHERE \"_row_key\" = ?"
    }

    /// `hq_tables."customers"`.
    var qualifiedName: String { Self.qualified(spec.name) }

    static func qualified(_ table: String) -> String { "\(HQTables.schemaName).\(quotedName(table))" }

    static func upsert(into table: String, names: [String]) -> String {
        """
        INSERT INTO \(table) (\(names.map(quotedName).joined(separator: ", "))) VALUES (\(names.map { _ in "?" }.joined(separator: ", ")))
        ON CONFLICT ("_row_key") DO UPDATE SET \(names.dropFirst().map { "\(quotedName($0)) = excluded.\(quotedName($0))" }.joined(separator: ", "))
        """
    }

    /// The table's definition, as `target` (the check builds a temporary twin).
    func createTable(as target: String? = nil) -> String {
        let definitions = [#""_row_key" BLOB NOT NULL UNIQUE"#] + (spec.direction == .up ? [#""_dealer" TEXT NOT NULL"#] : [])
            + columns.map { "\(quotedName($0.name)) \($0.declaredType)" }
            + Self.provenance.map { "\(quotedName($0.name)) \($0.declaredType)" }
        return "CREATE TABLE IF NOT EXISTS \(target ?? qualifiedName) (\(definitions.joined(separator: ", ")))"
    }

    /// An index on the DMS key (with `_dealer` first for `up`), and the schema's `indexes`.
    /// Indexes share SQLite's namespace with tables, hence the reserved prefix.
    var createIndexes: [String] {
        let keyIndex = (spec.direction == .up ? ["_dealer"] : []) + key
        return ([keyIndex] + spec.indexes).enumerated().map { number, columns in
            "CREATE INDEX IF NOT EXISTS \(Self.qualified("_dealersync_ix_\(spec.name)_\(number)")) ON \(quotedName(spec.name)) (\(columns.map(quotedName).joined(separator: ", ")))"
        }
    }

    /// `ALTER TABLE … ADD COLUMN`: constant time in SQLite, so a column a DMS upgrade adds
    /// appears at HQ without stopping ingest.
    func addColumn(_ column: ColumnSpec) -> String {
        "ALTER TABLE \(qualifiedName) ADD COLUMN \(quotedName(column.name)) \(column.declaredType)"
    }
}

/// `"name"`, inner quotes doubled.
func quotedName(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
