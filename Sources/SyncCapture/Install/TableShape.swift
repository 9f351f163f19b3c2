import GRDB
import SyncCore

/// What the live DMS schema says about one table: its synced columns, its primary key,
/// whether it has a rowid and its UNIQUE indexes. Read with `PRAGMA table_xinfo`,
/// `pragma_table_list` and `pragma_index_list`, so it always reflects the schema as it is
/// now, not as it was at `init`.
struct TableShape: Hashable {
    struct Column: Hashable {
        var name: String
        var declaredType: String
    }

    /// One key column of a UNIQUE index, with the collation the index compares it by (which
    /// may differ from the column's own).
    struct UniqueColumn: Hashable {
        var name: String
        var collation: String
    }

    var name: String
    /// Columns that sync: every column except generated and hidden ones.
    var columns: [Column]
    /// Primary-key column names in key order.
    var primaryKey: [String]
    var withoutRowID: Bool
    /// UNIQUE indexes other than the primary key (constraints and `CREATE UNIQUE INDEX`),
    /// each as its key columns in index order; sorted and without duplicates, so the same
    /// schema always gives the same list. Partial and expression indexes are left out.
    var uniqueIndexes: [[UniqueColumn]] = []

    var columnNames: [String] { columns.map(\.name) }
    /// Synced columns outside the primary key: the key travels as the row's `RowKey`.
    var valueColumns: [String] { columns.map(\.name).filter { !primaryKey.contains($0) } }

    /// A `both` table keyed by the rowid (`INTEGER PRIMARY KEY`, with or without
    /// AUTOINCREMENT) would collide across stores: every store has a customer 1.
    var keyIsRowid: Bool {
        guard !withoutRowID, primaryKey.count == 1,
            let column = columns.first(where: { $0.name == primaryKey[0] })
        else { return false }
        return column.declaredType.uppercased() == "INTEGER"
    }

    /// A fingerprint of what the triggers depend on; a change means rebuild them.
    /// UNIQUE indexes are appended only when there are some, so a table without any keeps
    /// the signature it had before they were part of it.
    var signature: String {
        let columnParts: [String] = columns.map { "\($0.name):\($0.declaredType)" }
        let keyPart: String = "pk:" + primaryKey.joined(separator: ",")
        let uniqueParts: [String] = uniqueIndexes.map { Self.uniqueSignature($0) }
        return (columnParts + [keyPart] + uniqueParts).joined(separator: "|")
    }

    private static func uniqueSignature(_ index: [UniqueColumn]) -> String {
        "u:" + index.map { "\($0.name)/\($0.collation)" }.joined(separator: ",")
    }

    /// The shape dealersync syncs of `spec`'s table: without the columns the sync schema
    /// keeps `local` (docs/PRIVACY.md), so they are never captured, read for a push, written
    /// from HQ or reported. Nil if no such table exists.
    static func read(_ db: Database, for spec: TableSpec) throws -> TableShape? {
        guard var shape = try read(db, table: spec.name) else { return nil }
        if !spec.localColumns.isEmpty {
            shape.columns.removeAll { spec.localColumns.contains($0.name) && !shape.primaryKey.contains($0.name) }
        }
        return shape
    }

    /// Reads the table's shape, or nil if no such table exists.
    static func read(_ db: Database, table: String) throws -> TableShape? {
        guard let listing = try Row.fetchOne(
            db, sql: "SELECT type, wr FROM pragma_table_list WHERE schema = 'main' AND name = ?", arguments: [table])
        else { return nil }
        guard (listing["type"] as String) == "table" else {
            throw CaptureError(
                .unsupportedTable, "'\(table)' is a \(listing["type"] as String), not a table",
                hint: "list only ordinary tables in the sync schema")
        }
        var columns: [Column] = []
        var keyed: [(Int, String)] = []
        for row in try Row.fetchAll(db, sql: "SELECT name, type, pk, hidden FROM pragma_table_xinfo(?)", arguments: [table]) {
            let name: String = row["name"]
            let hidden: Int = row["hidden"]
            let pk: Int = row["pk"]
            // hidden: 0 ordinary, 1 virtual-table hidden, 2/3 generated. Generated columns are
            // computed by each store's SQLite, so they are never synced.
            guard hidden == 0 else { continue }
            columns.append(Column(name: name, declaredType: row["type"]))
            if pk > 0 { keyed.append((pk, name)) }
        }
        let uniqueIndexes = try readUniqueIndexes(db, table: table)
        return TableShape(
            name: table, columns: columns, primaryKey: keyed.sorted { $0.0 < $1.0 }.map(\.1),
            withoutRowID: (listing["wr"] as Int) == 1, uniqueIndexes: uniqueIndexes)
    }

    /// The table's UNIQUE indexes that a REPLACE can remove other rows through: UNIQUE
    /// constraints (origin `u`) and `CREATE UNIQUE INDEX` (origin `c`), not the primary key.
    /// Skipped: partial indexes (a row conflicts only when the index's WHERE holds for it)
    /// and indexes on expressions (`cid` -2), which the triggers cannot compare column-wise.
    private static func readUniqueIndexes(_ db: Database, table: String) throws -> [[UniqueColumn]] {
        let names = try String.fetchAll(
            db,
            sql: """
                SELECT name FROM pragma_index_list(?, 'main')
                WHERE "unique" = 1 AND origin IN ('u', 'c') AND partial = 0
                """,
            arguments: [table])
        var indexes: [String: [UniqueColumn]] = [:]
        for index in names {
            let keyColumns = try Row.fetchAll(
                db, sql: "SELECT cid, name, coll FROM pragma_index_xinfo(?, 'main') WHERE key = 1 ORDER BY seqno",
                arguments: [index])
            var columns: [UniqueColumn] = []
            for row in keyColumns {
                let cid: Int = row["cid"]
                guard cid >= 0, let name = row["name"] as String? else { break }
                columns.append(UniqueColumn(name: name, collation: (row["coll"] as String?) ?? "BINARY"))
            }
            guard !columns.isEmpty, columns.count == keyColumns.count else { continue }
            indexes[uniqueSignature(columns)] = columns
        }
        return indexes.sorted { $0.key < $1.key }.map(\.value)
    }
}

/// SQL identifier quoting: `"name"` with inner quotes doubled, so tables named `order` or
/// columns named `客户 名称` work everywhere.
func quoted(_ identifier: String) -> String {
    // Called for every column of every applied row: Foundation's replacingOccurrences was
    // 15% of the apply profile, and names almost never hold a quote.
    guard identifier.utf8.contains(UInt8(ascii: "\"")) else { return "\"" + identifier + "\"" }
    return "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
