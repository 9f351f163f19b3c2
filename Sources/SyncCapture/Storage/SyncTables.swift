import GRDB
import SyncCore

/// dealersync's own tables inside the DMS file, all named `_dealersync_*`.
///
/// They live in the DMS file, not beside it, because the pull cursor, the clock metadata
/// and the applied rows must commit in one SQLite transaction. Migrations are named and
/// append-only: never edit one that has shipped, add a new one. They are recorded in
/// `_dealersync_migrations` (not GRDB's `grdb_migrations`, so that `init --remove` can
/// find every object by its prefix and leave the DMS schema exactly as it was).
enum SyncTables {
    static let prefix = "_dealersync"

    static let migrations: [(name: String, sql: String)] = [
        (
            "1-initial",
            """
            CREATE TABLE _dealersync_meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
            -- A row here, written and removed inside one apply transaction, tells the capture
            -- triggers to stay quiet. Other connections never see it.
            CREATE TABLE _dealersync_guard (active INTEGER);
            -- One row per synced table; columns holds the JSON list of column names in the
            -- order of their change-mask bits (new columns are appended, never reordered).
            CREATE TABLE _dealersync_tables (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                columns TEXT NOT NULL,
                primary_key TEXT NOT NULL,
                signature TEXT NOT NULL,
                mask_words INTEGER NOT NULL,
                snapshot_after,
                snapshot_done INTEGER NOT NULL DEFAULT 0,
                problem TEXT
            );
            -- Clock metadata of every synced row: version vector, origin, existence and the
            -- dot/HLC of each column (values stay in the DMS table). See ClockRecord.
            CREATE TABLE _dealersync_clock (
                table_id INTEGER NOT NULL,
                key BLOB NOT NULL,
                clock BLOB NOT NULL,
                PRIMARY KEY (table_id, key)
            ) WITHOUT ROWID;
            -- Built batches waiting for HQ's acknowledgement, oldest first. The body is the
            -- gzip-compressed wire form; a retry sends the same bytes.
            CREATE TABLE _dealersync_outbox (
                id INTEGER PRIMARY KEY,
                first_sequence INTEGER NOT NULL,
                last_sequence INTEGER NOT NULL,
                row_count INTEGER NOT NULL,
                body BLOB NOT NULL,
                sha256 TEXT NOT NULL,
                created_at INTEGER NOT NULL
            );
            CREATE TABLE _dealersync_conflicts (
                id INTEGER PRIMARY KEY,
                identity TEXT NOT NULL UNIQUE,
                table_name TEXT NOT NULL,
                row_key BLOB NOT NULL,
                column_name TEXT,
                reason TEXT NOT NULL,
                winner TEXT NOT NULL,
                winning_value BLOB,
                losers TEXT NOT NULL,
                losing_values BLOB,
                decided_at INTEGER NOT NULL,
                resolved_at INTEGER
            );
            """
        ),
        (
            "2-nodes",
            """
            -- Node ids by small number, so each clock record names a node in one byte.
            CREATE TABLE _dealersync_nodes (id INTEGER PRIMARY KEY, node TEXT NOT NULL UNIQUE);
            """
        ),
        (
            "3-held",
            """
            -- Remote rows the DMS refused (its own constraints or triggers), kept and retried.
            CREATE TABLE _dealersync_held (
                table_name TEXT NOT NULL,
                row_key BLOB NOT NULL,
                version BLOB NOT NULL,
                reason TEXT NOT NULL,
                first_failed_at INTEGER NOT NULL,
                last_failed_at INTEGER NOT NULL,
                attempts INTEGER NOT NULL,
                PRIMARY KEY (table_name, row_key)
            ) WITHOUT ROWID;
            """
        ),
        (
            "4-hq-notices",
            """
            -- Pushed rows HQ did not take as sent (refused, or columns this store may not
            -- write), from HQ's push receipts, for `status`. The newest 1,000 are kept.
            CREATE TABLE _dealersync_hq_notices (
                id INTEGER PRIMARY KEY,
                batch TEXT NOT NULL,
                row_index INTEGER NOT NULL,
                table_name TEXT NOT NULL,
                kind TEXT NOT NULL,
                reason TEXT NOT NULL,
                received_at INTEGER NOT NULL
            );
            """
        ),
        (
            "5-capture-state",
            """
            -- Whether each captured table's triggers were seen intact (see CaptureCheck):
            -- 'ok', or 'reconcile' while the rows are compared with what was last captured
            -- (cursor, counts, why and since when). Tables registered before this migration
            -- start with one reconcile, which also gives their rows the value digests that
            -- later reconciles compare with (it sends nothing for rows it cannot judge).
            ALTER TABLE _dealersync_tables ADD COLUMN root_page INTEGER;
            ALTER TABLE _dealersync_tables ADD COLUMN capture_state TEXT NOT NULL DEFAULT 'reconcile';
            ALTER TABLE _dealersync_tables ADD COLUMN capture_reason TEXT NOT NULL DEFAULT 'first check after upgrading dealersync';
            ALTER TABLE _dealersync_tables ADD COLUMN capture_since INTEGER;
            ALTER TABLE _dealersync_tables ADD COLUMN reconcile_pass INTEGER NOT NULL DEFAULT 1;
            ALTER TABLE _dealersync_tables ADD COLUMN reconcile_after BLOB;
            ALTER TABLE _dealersync_tables ADD COLUMN reconcile_done INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE _dealersync_tables ADD COLUMN reconcile_total INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE _dealersync_tables ADD COLUMN reconcile_found INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE _dealersync_tables ADD COLUMN last_repair TEXT;
            """
        ),
    ]

    /// Creates or upgrades dealersync's tables. Idempotent.
    static func migrate(_ db: Database) throws {
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS _dealersync_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)")
        let applied = Set(try String.fetchAll(db, sql: "SELECT name FROM _dealersync_migrations"))
        for migration in migrations where !applied.contains(migration.name) {
            try db.execute(sql: migration.sql)
            try db.execute(
                sql: "INSERT INTO _dealersync_migrations (name, applied_at) VALUES (?, strftime('%s','now'))",
                arguments: [migration.name])
        }
    }

    /// Whether every migration of this version has run (a cheap check for each cycle).
    static func isMigrated(_ db: Database) throws -> Bool {
        (try Int.fetchOne(db, sql: "SELECT count(*) FROM _dealersync_migrations") ?? 0) >= migrations.count
    }

    static func isInstalled(_ db: Database) throws -> Bool {
        try db.tableExists("_dealersync_meta")
    }

    // MARK: - Key/value state

    static func meta(_ db: Database, _ key: MetaKey) throws -> DatabaseValue? {
        try DatabaseValue.fetchOne(db, sql: "SELECT value FROM _dealersync_meta WHERE key = ?", arguments: [key.rawValue])
    }

    /// The sync schema installed here. Reading only the schema needs no `SyncTransaction`
    /// (which also reads every table's shape and the clock).
    static func installedSchema(_ db: Database) throws -> SyncSchema {
        guard let yaml = try meta(db, .schema).flatMap(String.fromDatabaseValue) else {
            throw CaptureError(.notInitialized, "no sync schema is installed", hint: "run `dealersync init --config <agent.yaml>`")
        }
        return try SyncSchema(yaml: yaml, source: "installed sync schema")
    }

    static func setMeta(_ db: Database, _ key: MetaKey, _ value: (any DatabaseValueConvertible)?) throws {
        try db.execute(
            sql: "INSERT INTO _dealersync_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            arguments: [key.rawValue, value])
    }

    /// Every `_dealersync_*` object in the file, triggers first so that dropping tables
    /// never fires one.
    static func allObjects(_ db: Database) throws -> [(type: String, name: String)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT type, name FROM sqlite_schema
                WHERE name LIKE '\\_dealersync%' ESCAPE '\\' AND type IN ('trigger', 'table', 'view')
                ORDER BY CASE type WHEN 'trigger' THEN 0 WHEN 'view' THEN 1 ELSE 2 END, name
                """
        ).map { ($0["type"], $0["name"]) }
    }
}
