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
        /// The table's columns in order: `_row_key`, `_dealer` (`up`), the declared ones, provenance.
        let names: [String]
        let upsert: String
        let delete: String

        init(spec: TableSpec, columns: [ColumnSpec], key: [String]) {
            self.spec = spec
            self.columns = columns
            self.key = key
            names = ["_row_key"] + (spec.direction == .up ? ["_dealer"] : []) + columns.map(\.name) + TablesWriter.provenance.map(\.name)
            upsert = Self.upsert(into: "\(TablesWriter.schemaName).\(quotedName(spec.name))", names: names)
            delete = "DELETE FROM \(TablesWriter.schemaName).\(quotedName(spec.name)) WHERE \"_row_key\" = ?"
        }

        static func upsert(into table: String, names: [String]) -> String {
            """
            INSERT INTO \(table) (\(names.map(quotedName).joined(separator: ", "))) VALUES (\(names.map { _ in "?" }.joined(separator: ", ")))
            ON CONFLICT ("_row_key") DO UPDATE SET \(names.dropFirst().map { "\(quotedName($0)) = excluded.\(quotedName($0))" }.joined(separator: ", "))
            """
        }

        /// The table's definition, as `schema.name` (the check builds a temporary twin).
        func createTable(as target: String? = nil) -> String {
            let definitions = [#""_row_key" BLOB NOT NULL UNIQUE"#] + (spec.direction == .up ? [#""_dealer" TEXT NOT NULL"#] : [])
                + columns.map { "\(quotedName($0.name)) \($0.declaredType)" }
                + TablesWriter.provenance.map { "\(quotedName($0.name)) \($0.declaredType)" }
            return "CREATE TABLE IF NOT EXISTS \(target ?? "\(TablesWriter.schemaName).\(quotedName(spec.name))") (\(definitions.joined(separator: ", ")))"
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

    /// Creates the tables and indexes that are missing, and the state row that says up to
    /// which feed sequence they are applied. Idempotent.
    func ensureTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS \(Self.schemaName)._dealersync_state (id INTEGER PRIMARY KEY CHECK (id = 1), feed_seq INTEGER NOT NULL);
            INSERT INTO \(Self.schemaName)._dealersync_state (id, feed_seq) VALUES (1, 0) ON CONFLICT DO NOTHING;
            -- Values whose storage class does not fit their column's declared type (text in an
            -- INTEGER column): shown as SQLite stores them, listed here with the store whose
            -- write is shown; the version store keeps them exactly.
            CREATE TABLE IF NOT EXISTS \(Self.schemaName)._dealersync_mismatches (
                table_name TEXT NOT NULL, _row_key BLOB NOT NULL, column_name TEXT NOT NULL, dealer TEXT NOT NULL,
                storage_class TEXT NOT NULL, _feed_seq INTEGER NOT NULL, PRIMARY KEY (table_name, _row_key, column_name)) WITHOUT ROWID;
            -- Rows deleted from a table: its key (as in the feed's JSON), who deleted it and when.
            -- A row created again leaves this list.
            CREATE TABLE IF NOT EXISTS \(Self.schemaName)._dealersync_deleted (
                table_name TEXT NOT NULL, _row_key BLOB NOT NULL, key_json TEXT NOT NULL, deleted_by TEXT NOT NULL,
                deleted_at_ms INTEGER NOT NULL, _feed_seq INTEGER NOT NULL, PRIMARY KEY (table_name, _row_key)) WITHOUT ROWID;
                        CREATE VIEW IF NOT EXISTS \(Self.schemaName)._dealersync_mismatch_counts AS
                SELECT dealer, table_name, column_name, count(*) AS mismatches FROM _dealersync_mismatches GROUP BY 1, 2, 3;
            """)
        for layout in tables.values.sorted(by: { $0.spec.name < $1.spec.name }) {
            try db.execute(sql: layout.createTable())
            for index in layout.createIndexes { try db.execute(sql: index) }
        }
    }

    /// Shows `merged` (just written to `rows` and the feed at `sequence`) in its table, in
    /// the caller's transaction: the row as the table's policy shows it, or gone.
    func apply(_ db: Database, table: String, merged: RowVersion, sequence: Int64) throws {
        if let layout = tables[table] {
            let rowKey = Data(merged.key.bytes)
            try db.cachedStatement(sql: "DELETE FROM \(Self.schemaName)._dealersync_mismatches WHERE table_name = ? AND _row_key = ?")
                .execute(arguments: [table, rowKey])
            if let arguments = Self.projection(merged, layout: layout, sequence: sequence) {
                try db.cachedStatement(sql: layout.upsert).execute(arguments: arguments)
                try db.cachedStatement(sql: "DELETE FROM \(Self.schemaName)._dealersync_deleted WHERE table_name = ? AND _row_key = ?")
                    .execute(arguments: [table, rowKey])
                for mismatch in Self.mismatches(merged, layout: layout) {
                    try db.cachedStatement(sql: """
                        INSERT INTO \(Self.schemaName)._dealersync_mismatches (table_name, _row_key, column_name, dealer, storage_class, _feed_seq)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """).execute(arguments: [table, rowKey, mismatch.column, mismatch.dealer, mismatch.storageClass, sequence])
                }
            } else {
                try db.cachedStatement(sql: layout.delete).execute(arguments: [rowKey])
                let latest = Self.latestWrite(merged)
                let keyJSON = String(decoding: try JSONEncoder.sorted.encode(merged.key.values.map(TypedValue.init)), as: UTF8.self)
                try db.cachedStatement(sql: """
                    INSERT INTO \(Self.schemaName)._dealersync_deleted (table_name, _row_key, key_json, deleted_by, deleted_at_ms, _feed_seq)
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET deleted_by = excluded.deleted_by,
                        deleted_at_ms = excluded.deleted_at_ms, _feed_seq = excluded._feed_seq
                    """).execute(arguments: [table, rowKey, keyJSON, latest.node.rawValue, Int64(latest.hlc.physicalMillis), sequence])
            }
        }
        try db.cachedStatement(sql: "UPDATE \(Self.schemaName)._dealersync_state SET feed_seq = ? WHERE id = 1").execute(arguments: [sequence])
    }

    /// The table row of `merged` (the values of `Layout.names`), nil for a deleted row.
    static func projection(_ merged: RowVersion, layout: Layout, sequence: Int64) -> StatementArguments? {
        let rowKey = Data(merged.key.bytes)
        guard merged.isAlive(policy: layout.spec.policy) else { return nil }
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
        return StatementArguments(arguments)
    }

    // MARK: Catch-up, rebuild, check

    /// The feed sequence the tables show everything up to.
    func appliedSequence(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT feed_seq FROM \(Self.schemaName)._dealersync_state WHERE id = 1") ?? 0
    }

    /// Applies, from `rows`, every current version past `after` (a chunk of at most `limit`),
    /// in feed order; returns how many and the last sequence. SQLite commits the tables file
    /// and the store one after the other, not together, so after a power cut the tables can
    /// lag the store: opening catches up this way, and a rebuild starts from 0.
    func reapply(_ db: Database, after: Int64, limit: Int) throws -> (count: Int, last: Int64) {
        let names = tables.keys.sorted()
        guard !names.isEmpty else { return (0, after) }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT table_name, version, feed_seq FROM rows
                WHERE feed_seq > ? AND +table_name IN (\(names.map { _ in "?" }.joined(separator: ", ")))
                ORDER BY feed_seq LIMIT \(limit)
                """,
            arguments: StatementArguments([after] + names))
        var last = after
        for row in rows {
            let version = try RowVersion(canonicalBytes: Array(row["version"] as Data))
            last = row["feed_seq"]
            try apply(db, table: row["table_name"], merged: version, sequence: last)
        }
        return (rows.count, last)
    }

    /// Empties the tables (a rebuild refills them with `reapply` from 0).
    func clear(_ db: Database) throws {
        for name in tables.keys.sorted() { try db.execute(sql: "DELETE FROM \(Self.schemaName).\(quotedName(name))") }
        try db.execute(sql: "DELETE FROM \(Self.schemaName)._dealersync_mismatches")
        try db.execute(sql: "DELETE FROM \(Self.schemaName)._dealersync_deleted")
        try db.execute(sql: "UPDATE \(Self.schemaName)._dealersync_state SET feed_seq = 0 WHERE id = 1")
    }

    /// Rows of `table` that differ from the merged state in `rows`, by storage class or value
    /// (missing and extra rows included). The expected rows go into a temporary table with the
    /// same definition, so SQLite converts them exactly as it converted the real ones.
    func differences(_ db: Database, table: String) throws -> Int {
        guard let layout = tables[table] else { return 0 }
        try db.execute(sql: "DROP TABLE IF EXISTS temp._dealersync_expected")
        try db.execute(sql: layout.createTable(as: "temp._dealersync_expected"))
        let insert = Layout.upsert(into: "temp._dealersync_expected", names: layout.names)
        for row in try Row.fetchAll(db, sql: "SELECT version, feed_seq FROM rows WHERE table_name = ?", arguments: [table]) {
            let version = try RowVersion(canonicalBytes: Array(row["version"] as Data))
            if let arguments = Self.projection(version, layout: layout, sequence: row["feed_seq"]) {
                try db.execute(sql: insert, arguments: arguments)
            }
        }
        let differs = layout.names.dropFirst().map { "e.\(quotedName($0)) IS NOT t.\(quotedName($0)) OR typeof(e.\(quotedName($0))) <> typeof(t.\(quotedName($0)))" }
            .joined(separator: " OR ")
        let real = "\(Self.schemaName).\(quotedName(table))"
        let count = try Int.fetchOne(
            db,
            sql: """
                SELECT (SELECT count(*) FROM temp._dealersync_expected e LEFT JOIN \(real) t USING ("_row_key") WHERE t."_row_key" IS NULL OR \(differs))
                     + (SELECT count(*) FROM \(real) t WHERE t."_row_key" NOT IN (SELECT "_row_key" FROM temp._dealersync_expected))
                """) ?? 0
        try db.execute(sql: "DROP TABLE temp._dealersync_expected")
        return count
    }

    /// Shown values whose storage class does not fit their column's declared type, each with
    /// the store whose write is shown (for an `up` row, the store it belongs to).
    static func mismatches(_ merged: RowVersion, layout: Layout) -> [(column: String, dealer: String, storageClass: String)] {
        let shown = merged.values(policy: layout.spec.policy)
        var found: [(column: String, dealer: String, storageClass: String)] = []
        for column in layout.columns where !layout.key.contains(column.name) {
            guard let value = shown[column.name], !ColumnAffinity(declaredType: column.declaredType).fits(value) else { continue }
            let writer = merged.columns[column.name]?.max { $0.hlc < $1.hlc }?.dot.node ?? merged.origin.node
            let dealer = layout.spec.direction == .up ? (merged.key.values.first.flatMap { if case .text(let id) = $0 { id } else { nil } } ?? writer.rawValue) : writer.rawValue
            found.append((column.name, dealer, value.storageClass))
        }
        return found
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
