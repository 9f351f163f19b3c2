import Foundation
import GRDB
import Synchronization
import SyncCore

/// HQ's merged data as SQL tables (docs/HQ-TABLES.md): one table per synced table, named
/// exactly as in the DMS, in a file of their own attached as `hq_tables`, written in the
/// same transaction as the merge (`TablesWriter`) so they are never behind the feed.
///
/// A table's columns are declared in the sync schema, or learned from what the stores
/// report (`HQTables+Shapes.swift`). The tables file itself says which columns a learned
/// table has, so another process (`hq rebuild-tables`) and a restart see the same layout;
/// the layouts are cached until `PRAGMA hq_tables.schema_version` changes.
final class HQTables: Sendable {
    static let schemaName = "hq_tables"
    let schema: SyncSchema
    /// Most columns a learned table gets (`limits.max_table_columns`): a hostile store can
    /// add at most this many NULL columns; declaring the columns closes even that.
    let maxColumns: Int
    private let cache = Mutex<(schemaVersion: Int, layouts: [String: TableLayout])?>(nil)
    /// The schema's quality rules, evaluated as rows merge; nil when no table has any.
    let quality: QualityWriter?
    /// Linking customers across stores, behind ingest (docs/IDENTITY.md); nil without `identity:`.
    let identity: IdentityLinker?

    init(schema: SyncSchema, maxColumns: Int = 500) {
        self.schema = schema
        self.maxColumns = maxColumns
        let quality = QualityWriter(schema: schema)
        self.quality = quality.evaluators.isEmpty ? nil : quality
        identity = IdentityLinker(schema: schema)
    }

    /// The writer for one transaction, with the layouts as the tables file has them now.
    func writer(_ db: Database) throws -> TablesWriter {
        TablesWriter(layouts: try layouts(db), quality: quality, today: quality == nil ? "" : QualityWriter.today())
    }

    /// Every table that has a layout: declared ones, and learned ones once a store reported them.
    func layouts(_ db: Database) throws -> [String: TableLayout] {
        let version = try Int.fetchOne(db, sql: "PRAGMA \(Self.schemaName).schema_version") ?? 0
        if let cached = cache.withLock({ $0 }), cached.schemaVersion == version { return cached.layouts }
        var layouts: [String: TableLayout] = [:]
        for spec in schema.tables {
            if let columns = spec.columns, let key = spec.key {
                layouts[spec.name] = TableLayout(spec: spec, columns: columns, key: key)
            } else if let learned = try storedLayout(db, spec: spec) {
                layouts[spec.name] = learned
            }
        }
        cache.withLock { $0 = (version, layouts) }
        return layouts
    }

    /// A learned table's layout as the tables file holds it: its key from
    /// `_dealersync_layouts`, its columns from the table itself.
    private func storedLayout(_ db: Database, spec: TableSpec) throws -> TableLayout? {
        guard let keyJSON = try String.fetchOne(
            db, sql: "SELECT key_json FROM \(Self.schemaName)._dealersync_layouts WHERE table_name = ?", arguments: [spec.name]),
            let key = try? JSONDecoder().decode([String].self, from: Data(keyJSON.utf8))
        else { return nil }
        let added = Set(["_row_key", "_dealer"] + TableLayout.provenance.map(\.name))
        let columns = try Row.fetchAll(db, sql: "SELECT name, type FROM pragma_table_xinfo(?, ?) ORDER BY cid", arguments: [spec.name, Self.schemaName])
            .map { ColumnSpec(name: $0["name"], declaredType: $0["type"]) }
            .filter { !added.contains($0.name) }
        guard !columns.isEmpty else { return nil }
        return TableLayout(spec: spec, columns: columns, key: key)
    }

    /// Creates what is missing: the metadata tables, the state row that says up to which
    /// feed sequence the tables are applied, and the declared tables. Idempotent.
    func ensure(_ db: Database) throws {
        let schema = Self.schemaName
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS \(schema)._dealersync_state (id INTEGER PRIMARY KEY CHECK (id = 1), feed_seq INTEGER NOT NULL);
            INSERT INTO \(schema)._dealersync_state (id, feed_seq) VALUES (1, 0) ON CONFLICT DO NOTHING;
            -- Values whose storage class does not fit their column's declared type (text in an
            -- INTEGER column): shown as SQLite stores them, listed here with the store whose
            -- write is shown; the version store keeps them exactly.
            CREATE TABLE IF NOT EXISTS \(schema)._dealersync_mismatches (
                table_name TEXT NOT NULL, _row_key BLOB NOT NULL, column_name TEXT NOT NULL, dealer TEXT NOT NULL,
                storage_class TEXT NOT NULL, _feed_seq INTEGER NOT NULL, PRIMARY KEY (table_name, _row_key, column_name)) WITHOUT ROWID;
            CREATE VIEW IF NOT EXISTS \(schema)._dealersync_mismatch_counts AS
                SELECT dealer, table_name, column_name, count(*) AS mismatches FROM _dealersync_mismatches GROUP BY 1, 2, 3;
            -- Rows deleted from a table: its key (as in the feed's JSON), who deleted it and when.
            -- A row created again leaves this list.
            CREATE TABLE IF NOT EXISTS \(schema)._dealersync_deleted (
                table_name TEXT NOT NULL, _row_key BLOB NOT NULL, key_json TEXT NOT NULL, deleted_by TEXT NOT NULL,
                deleted_at_ms INTEGER NOT NULL, _feed_seq INTEGER NOT NULL, PRIMARY KEY (table_name, _row_key)) WITHOUT ROWID;
            -- Learned tables (no declared columns): their key; the columns are the table's own.
            CREATE TABLE IF NOT EXISTS \(schema)._dealersync_layouts (
                table_name TEXT PRIMARY KEY NOT NULL, key_json TEXT NOT NULL, first_dealer TEXT NOT NULL, created_ms INTEGER NOT NULL);
            -- Columns rows carry that the table does not have yet (a store pushed before it
            -- reported its shape, or past the column cap): how many row writes carried them.
            CREATE TABLE IF NOT EXISTS \(schema)._dealersync_unshaped (
                table_name TEXT NOT NULL, column_name TEXT NOT NULL, writes INTEGER NOT NULL,
                PRIMARY KEY (table_name, column_name)) WITHOUT ROWID;
            -- Tables being filled from the store's rows after they were created or gained a
            -- column rows already carry, and where the fill is (row keys in order).
            CREATE TABLE IF NOT EXISTS \(schema)._dealersync_fills (table_name TEXT PRIMARY KEY NOT NULL, after BLOB NOT NULL);
            """)
        try QualityWriter.ensure(db)
        if identity != nil { try IdentityLinker.ensure(db) }
        for layout in try layouts(db).values.sorted(by: { $0.spec.name < $1.spec.name }) {
            try db.execute(sql: layout.createTable())
            for index in layout.createIndexes { try db.execute(sql: index) }
        }
    }

    /// The feed sequence the tables show everything up to.
    func appliedSequence(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT feed_seq FROM \(Self.schemaName)._dealersync_state WHERE id = 1") ?? 0
    }

    /// Tables still being filled.
    func filling(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT table_name FROM \(Self.schemaName)._dealersync_fills ORDER BY 1")
    }
}
