import GRDB

/// The HQ store's schema, as named, append-only migrations: never edit one that has
/// shipped; add a new one instead.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: principals, rows, feed, holders, batches, dead letters, conflicts, hq clock") { db in
            try db.execute(
                sql: """
                    CREATE TABLE principals (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT,
                        kind TEXT NOT NULL,
                        token_sha256 TEXT NOT NULL UNIQUE,
                        created_ms INTEGER NOT NULL,
                        revoked_ms INTEGER,
                        last_seen_ms INTEGER,
                        last_batch TEXT,
                        pulled_seq INTEGER NOT NULL DEFAULT 0,
                        clock_skew_ms INTEGER
                    );
                    CREATE TABLE rows (
                        table_name TEXT NOT NULL,
                        row_key BLOB NOT NULL,
                        version BLOB NOT NULL,
                        feed_seq INTEGER NOT NULL,
                        routed_dealer TEXT,
                        PRIMARY KEY (table_name, row_key)
                    ) WITHOUT ROWID;
                    CREATE UNIQUE INDEX rows_by_feed_seq ON rows(feed_seq);
                    CREATE TABLE feed (
                        seq INTEGER PRIMARY KEY,
                        table_name TEXT NOT NULL,
                        row_key BLOB NOT NULL,
                        version BLOB NOT NULL,
                        source TEXT NOT NULL,
                        at_ms INTEGER NOT NULL
                    );
                    CREATE TABLE holders (
                        dealer TEXT NOT NULL,
                        table_name TEXT NOT NULL,
                        row_key BLOB NOT NULL,
                        known_seq INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (dealer, table_name, row_key)
                    ) WITHOUT ROWID;
                    CREATE TABLE batches (
                        dealer TEXT NOT NULL,
                        first_seq INTEGER NOT NULL,
                        last_seq INTEGER NOT NULL,
                        sha256 TEXT NOT NULL,
                        receipt BLOB NOT NULL,
                        row_count INTEGER NOT NULL,
                        compressed_bytes INTEGER NOT NULL,
                        at_ms INTEGER NOT NULL,
                        PRIMARY KEY (dealer, first_seq, last_seq)
                    );
                    CREATE INDEX batches_by_sha256 ON batches(dealer, sha256);
                    CREATE TABLE dead_letters (
                        id INTEGER PRIMARY KEY,
                        dealer TEXT NOT NULL,
                        batch TEXT NOT NULL,
                        row_index INTEGER NOT NULL,
                        table_name TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        version BLOB NOT NULL,
                        at_ms INTEGER NOT NULL
                    );
                    CREATE INDEX dead_letters_by_dealer ON dead_letters(dealer);
                    CREATE TABLE conflicts (
                        id INTEGER PRIMARY KEY,
                        identity TEXT NOT NULL UNIQUE,
                        table_name TEXT NOT NULL,
                        row_key BLOB NOT NULL,
                        column_name TEXT,
                        reason TEXT NOT NULL,
                        winner TEXT NOT NULL,
                        losers TEXT NOT NULL,
                        winning_value TEXT,
                        losing_values TEXT NOT NULL,
                        source TEXT NOT NULL,
                        feed_seq INTEGER NOT NULL,
                        at_ms INTEGER NOT NULL
                    );
                    CREATE INDEX conflicts_by_source ON conflicts(source);
                    CREATE TABLE hq_clock (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        counter INTEGER NOT NULL,
                        hlc INTEGER NOT NULL
                    );
                    INSERT INTO hq_clock (id, counter, hlc) VALUES (1, 0, 0);
                    """)
        }
        migrator.registerMigration("v2: capture state each dealer reports") { db in
            try db.execute(
                sql: """
                    ALTER TABLE principals ADD COLUMN capture_state TEXT;
                    ALTER TABLE principals ADD COLUMN capture_tables INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE principals ADD COLUMN capture_gap_ms INTEGER;
                    """)
        }
        migrator.registerMigration("v3: retention horizon") { db in
            // Retention (SQLiteSyncStore+Retention.swift): at and below `feed_horizon` the feed
            // holds only each row's current version. `tombstones_checked`: rows up to this feed
            // sequence were looked at for deletes; `tombstones_waiting`: the deleted rows found
            // there that a holder has not pulled yet.
            try db.execute(
                sql: """
                    CREATE TABLE store_state (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        feed_horizon INTEGER NOT NULL DEFAULT 0,
                        last_compaction_ms INTEGER,
                        tombstones_checked INTEGER NOT NULL DEFAULT 0
                    );
                    INSERT INTO store_state (id) VALUES (1);
                    CREATE TABLE tombstones_waiting (feed_seq INTEGER PRIMARY KEY);
                    -- A row whose current version sits at or below the horizon gets a newer one: the
                    -- old entry is no longer current, so it leaves the feed now (the compaction walks
                    -- only past the horizon and would never see it again).
                    CREATE TRIGGER rows_superseded_below_horizon AFTER UPDATE OF feed_seq ON rows
                    WHEN OLD.feed_seq <> NEW.feed_seq AND OLD.feed_seq <= (SELECT feed_horizon FROM store_state WHERE id = 1)
                    BEGIN
                        DELETE FROM feed WHERE seq = OLD.feed_seq;
                        DELETE FROM tombstones_waiting WHERE feed_seq = OLD.feed_seq;
                    END;
                    """)
        }
        migrator.registerMigration("v4: table shapes the stores report") { db in
            // Each store's latest report per table (docs/HQ-TABLES.md); `first_ms` keeps the
            // order reports first arrived in, which decides a learned table's column order.
            try db.execute(
                sql: """
                    CREATE TABLE table_shapes (
                        dealer TEXT NOT NULL,
                        table_name TEXT NOT NULL,
                        key_json TEXT NOT NULL,
                        columns_json TEXT NOT NULL,
                        sha256 TEXT NOT NULL,
                        first_ms INTEGER NOT NULL,
                        reported_ms INTEGER NOT NULL,
                        PRIMARY KEY (dealer, table_name)
                    );
                    """)
        }
        migrator.registerMigration("v5: status history") { db in
            // Every few minutes each dealer's backlog and the rows it pushed since the last
            // point (a PeriodicService in hq serve), for the console's charts; a week is kept.
            try db.execute(
                sql: """
                    CREATE TABLE status_history (
                        dealer TEXT NOT NULL,
                        at_ms INTEGER NOT NULL,
                        rows_pushed INTEGER NOT NULL,
                        backlog INTEGER NOT NULL,
                        PRIMARY KEY (dealer, at_ms)
                    ) WITHOUT ROWID;
                    CREATE INDEX batches_by_time ON batches(at_ms);
                    """)
        }
        migrator.registerMigration("v6: store health each agent reports") { db in
            // StoreHealthReport from each pull's X-Dealersync-Health (issue 21): shown per dealer.
            try db.execute(
                sql: """
                    ALTER TABLE principals ADD COLUMN agent_version TEXT;
                    ALTER TABLE principals ADD COLUMN pending_changes INTEGER;
                    ALTER TABLE principals ADD COLUMN outbox_rows INTEGER;
                    ALTER TABLE principals ADD COLUMN held_rows INTEGER;
                    ALTER TABLE principals ADD COLUMN free_disk_mb INTEGER;
                    ALTER TABLE principals ADD COLUMN last_error TEXT;
                    ALTER TABLE principals ADD COLUMN health_ms INTEGER;
                    """)
        }
        migrator.registerMigration("v7: schema rollout, groups and remote requests") { db in
            // docs/ROLLOUT.md. Published schema versions never change; a dealer runs its
            // group's version (no group: `default`); HQ asks a store for work (a resync) and
            // the store reports its progress.
            try db.execute(
                sql: """
                    CREATE TABLE schema_versions (
                        version INTEGER PRIMARY KEY,
                        yaml TEXT NOT NULL,
                        sha256 TEXT NOT NULL,
                        published_ms INTEGER NOT NULL
                    );
                    CREATE TABLE dealer_groups (
                        name TEXT PRIMARY KEY,
                        schema_version INTEGER REFERENCES schema_versions(version),
                        agent_settings TEXT,
                        updated_ms INTEGER NOT NULL
                    );
                    INSERT INTO dealer_groups (name, schema_version, updated_ms) VALUES ('default', NULL, 0);
                    ALTER TABLE principals ADD COLUMN group_name TEXT REFERENCES dealer_groups(name);
                    ALTER TABLE principals ADD COLUMN schema_running INTEGER;
                    CREATE TABLE remote_requests (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        dealer TEXT NOT NULL REFERENCES principals(id),
                        kind TEXT NOT NULL,
                        table_name TEXT,
                        requested_ms INTEGER NOT NULL,
                        state TEXT NOT NULL DEFAULT 'pending',
                        done INTEGER NOT NULL DEFAULT 0,
                        total INTEGER NOT NULL DEFAULT 0,
                        message TEXT,
                        updated_ms INTEGER NOT NULL
                    );
                    CREATE INDEX remote_requests_by_dealer ON remote_requests(dealer, state);
                    """)
        }
        migrator.registerMigration("v8: access records") { db in
            // Every read of personal data by a reader, the console or a counter lookup
            // (docs/PRIVACY.md); retention drops them after retention.access_log_days.
            try db.execute(
                sql: """
                    CREATE TABLE access_log (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at_ms INTEGER NOT NULL,
                        who TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        tables TEXT NOT NULL,
                        rows INTEGER NOT NULL,
                        detail TEXT
                    );
                    CREATE INDEX access_log_by_time ON access_log(at_ms);
                    CREATE INDEX access_log_by_who ON access_log(who, at_ms);
                    """)
        }
        migrator.registerMigration("v9: column policies applied, erasures") { db in
            // `privacy_state.policies`: the local/masked/hashed columns whose purge of older
            // values last ran (docs/PRIVACY.md). `erasures`: rows erased on request, kept (key
            // only) so a store that was offline cannot bring one back, with the tombstone
            // (no values; its version vector tells a stale copy from a row created anew) and
            // when HQ's files were rewritten after it (`scrubbed_ms`); `erasure_holders`: the
            // stores that held the row, each with the tombstone sequence it must pull past.
            try db.execute(
                sql: """
                    CREATE TABLE privacy_state (id INTEGER PRIMARY KEY CHECK (id = 1), policies TEXT NOT NULL);
                    INSERT INTO privacy_state (id, policies) VALUES (1, '');
                    CREATE TABLE erasures (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        table_name TEXT NOT NULL,
                        row_key BLOB NOT NULL,
                        requested_by TEXT NOT NULL,
                        reason TEXT,
                        requested_ms INTEGER NOT NULL,
                        feed_seq INTEGER NOT NULL,
                        tombstone BLOB NOT NULL,
                        copies_removed_ms INTEGER,
                        scrubbed_ms INTEGER,
                        UNIQUE (table_name, row_key)
                    );
                    CREATE TABLE erasure_holders (
                        erasure INTEGER NOT NULL REFERENCES erasures(id),
                        dealer TEXT NOT NULL,
                        feed_seq INTEGER NOT NULL,
                        PRIMARY KEY (erasure, dealer)
                    ) WITHOUT ROWID;
                    """)
        }
        return migrator
    }
}
