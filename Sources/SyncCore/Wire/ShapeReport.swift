import Foundation

/// What a store tells HQ about its synced tables' columns, so HQ can keep its SQL tables
/// (docs/HQ-TABLES.md) for tables whose columns the sync schema does not declare. Sent as
/// JSON in `PUT /v1/dealers/{id}/shape` whenever it changes, before the rows that carry a
/// new column:
///
///     {"tables": [{"name": "customers", "key": ["id"],
///                  "columns": [{"name": "id", "type": "TEXT"}, {"name": "mobile", "type": "VARCHAR(20)"}]}]}
///
/// Types are the DMS's declared types as written (`PRAGMA table_xinfo`). HQ checks every
/// name and type with `ColumnSpec.problem(in:key:maxColumns:)`, the same rule as declared
/// columns: a type goes into HQ's `CREATE TABLE`, so a store must not be able to end it.
public struct ShapeReport: Codable, Hashable, Sendable {
    public struct Table: Codable, Hashable, Sendable {
        public var name: String
        public var key: [String]
        public var columns: [Column]

        public init(name: String, key: [String], columns: [Column]) {
            self.name = name
            self.key = key
            self.columns = columns
        }

        public var columnSpecs: [ColumnSpec] { columns.map { ColumnSpec(name: $0.name, declaredType: $0.type) } }
    }

    public struct Column: Codable, Hashable, Sendable {
        public var name: String
        public var type: String

        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }
    }

    /// Most tables in one report (a sync schema is far smaller).
    public static let maxTables = 200

    public var tables: [Table]

    public init(tables: [Table]) { self.tables = tables }

    /// The canonical JSON (sorted keys), so the same shape always gives the same bytes and
    /// a store can tell by their SHA-256 whether it changed.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(self))
    }
}

extension ColumnSpec {
    /// Columns HQ's SQL tables add (docs/HQ-TABLES.md); a DMS column may not be named so.
    public static let reservedNames: Set<String> = ["_row_key", "_dealer", "_origin", "_changed_by", "_changed_at_ms", "_feed_seq"]

    /// What is wrong with a table's column list for HQ's SQL table, or nil: names non-empty,
    /// at most 128 bytes, no control characters, not reserved, unique without case (as
    /// SQLite compares them); types that cannot break a `CREATE TABLE` (`isSafe`); the key
    /// non-empty and made of listed columns; at most `maxColumns`. `where` names the field
    /// at fault relative to the table (`columns[3]`, `key`).
    public static func problem(in columns: [ColumnSpec], key: [String], maxColumns: Int) -> (field: String, problem: String)? {
        guard !columns.isEmpty, columns.count <= maxColumns else {
            return ("columns", "has \(columns.count) columns; there must be 1 to \(maxColumns)")
        }
        var names = Set<String>()
        for (index, column) in columns.enumerated() {
            guard !column.name.isEmpty, column.name.utf8.count <= 128, !column.name.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                return ("columns[\(index)]", "has an empty, over-long or control-character name")
            }
            guard !reservedNames.contains(column.name.lowercased()) else {
                return ("columns[\(index)]", "is named '\(column.name)', a column HQ adds to its tables (\(reservedNames.sorted().joined(separator: ", ")))")
            }
            guard names.insert(column.name.lowercased()).inserted else {
                return ("columns[\(index)]", "repeats column '\(column.name)' (SQLite compares names without case)")
            }
            guard isSafe(declaredType: column.declaredType) else {
                return ("columns[\(index)]", "type \"\(column.declaredType.prefix(64))\" is not a plain SQL type; use words and an optional (n) or (n, m), e.g. VARCHAR(20)")
            }
        }
        guard !key.isEmpty else { return ("key", "is missing; list the primary-key columns") }
        for column in key where !names.contains(column.lowercased()) {
            return ("key", "names '\(column.prefix(128))', which is not among the columns")
        }
        return nil
    }
}
