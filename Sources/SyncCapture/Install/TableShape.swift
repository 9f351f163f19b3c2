import GRDB

/// What the live DMS schema says about one table: its synced columns, its primary key and
/// whether it has a rowid. Read with `PRAGMA table_xinfo` and `pragma_table_list`, so it
/// always reflects the schema as it is now, not as it was at `init`.
struct TableShape: Hashable {
    struct Column: Hashable {
        var name: String
        var declaredType: String
    }

    var name: String
    /// Columns that sync: every column except generated and hidden ones.
    var columns: [Column]
    /// Primary-key column names in key order.
    var primaryKey: [String]
    var withoutRowID: Bool

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
    var signature: String {
        (columns.map { "\($0.name):\($0.declaredType)" } + ["pk:" + primaryKey.joined(separator: ",")]).joined(separator: "|")
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
        return TableShape(
            name: table, columns: columns, primaryKey: keyed.sorted { $0.0 < $1.0 }.map(\.1),
            withoutRowID: (listing["wr"] as Int) == 1)
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
