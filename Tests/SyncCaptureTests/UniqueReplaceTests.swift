import Foundation
import GRDB
import Testing
@testable import SyncCapture
import SyncCore
import SyncTestSupport

/// REPLACE removing a *different* row through a secondary UNIQUE index fires no DELETE
/// trigger (issue 15, item 4): the UNIQUE-index triggers must log that row so its delete
/// reaches HQ, and log nothing that would be sent when no row goes away.
@Suite("REPLACE through a UNIQUE index")
struct UniqueReplaceTests {
    static let dmsSQL = """
        CREATE TABLE contacts (
            id TEXT PRIMARY KEY,
            email TEXT UNIQUE,
            name TEXT,
            wechat TEXT UNIQUE ON CONFLICT REPLACE,
            login TEXT,
            store TEXT,
            number INTEGER,
            UNIQUE (store, number)
        );
        CREATE UNIQUE INDEX contacts_login ON contacts (login COLLATE NOCASE);
        CREATE TABLE tags (id TEXT PRIMARY KEY, label TEXT, code TEXT, kind TEXT);
        CREATE UNIQUE INDEX tags_label ON tags (lower(label));
        CREATE UNIQUE INDEX tags_kind ON tags (kind) WHERE kind IS NOT NULL;
        """

    static let schemaYAML = """
        version: 1
        tables:
          - name: contacts
            direction: both
          - name: tags
            direction: both
        """

    static var schema: SyncSchema { try! SyncSchema(yaml: schemaYAML) }
    static var policy: MergePolicy { schema.table(named: "contacts")!.policy }

    /// dealersync installed on a DMS holding four contacts, all stamped: c1 and c2 share
    /// store S1, c4 has store S2 with c1's number, c4 and c5 have no email.
    func installed() throws -> (TestDMS, DealerDatabase) {
        let dms = try TestDMS(schemaSQL: Self.dmsSQL)
        let database = try dms.open()
        _ = try database.install(schema: Self.schema)
        try dms.execute(
            """
            INSERT INTO contacts (id, email, name, wechat, login, store, number) VALUES
                ('c1', 'a@x', 'one', 'wx-1', 'a@x', 'S1', 7),
                ('c2', 'b@x', 'two', NULL, 'b@x', 'S1', 8),
                ('c4', NULL, 'four', NULL, NULL, 'S2', 7),
                ('c5', NULL, 'five', NULL, NULL, NULL, NULL)
            """)
        #expect(try Fixtures.stamp(database).count == 4)
        return (dms, database)
    }

    func key(_ id: String) -> RowKey { RowKey([.text(id)]) }

    func keyed(_ rows: [RowVersion]) -> [RowKey: RowVersion] {
        Dictionary(rows.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
    }

    func alive(_ version: RowVersion?) -> Bool? { version.map { $0.isAlive(policy: Self.policy) } }

    func contactIDs(_ dms: TestDMS) throws -> [String] {
        try dms.rows("SELECT id FROM contacts ORDER BY id").map { $0["id"] as String }
    }

    @Test("INSERT OR REPLACE with a new key and another row's email sends that row's delete")
    func insertOrReplace() throws {
        let (dms, database) = try installed()
        try dms.execute("INSERT OR REPLACE INTO contacts (id, email, name) VALUES ('c3', 'a@x', 'three')")
        #expect(try contactIDs(dms) == ["c2", "c3", "c4", "c5"])
        let batch = keyed(try Fixtures.stamp(database))
        #expect(alive(batch[key("c1")]) == false, "the row REPLACE removed through the email index is deleted at HQ")
        #expect(alive(batch[key("c3")]) == true)
        #expect(batch.count == 2, "\(batch.keys)")
    }

    @Test("a column declared UNIQUE ON CONFLICT REPLACE: a plain INSERT that replaces sends the delete")
    func uniqueOnConflictReplace() throws {
        let (dms, database) = try installed()
        try dms.execute("INSERT INTO contacts (id, name, wechat) VALUES ('c3', 'three', 'wx-1')")
        #expect(try contactIDs(dms) == ["c2", "c3", "c4", "c5"])
        let batch = keyed(try Fixtures.stamp(database))
        #expect(alive(batch[key("c1")]) == false)
        #expect(alive(batch[key("c3")]) == true)
        #expect(batch.count == 2, "\(batch.keys)")
    }

    @Test("UPDATE OR REPLACE onto another row's email sends that row's delete and the update")
    func updateOrReplace() throws {
        let (dms, database) = try installed()
        try dms.execute("UPDATE OR REPLACE contacts SET email = 'a@x' WHERE id = 'c2'")
        #expect(try contactIDs(dms) == ["c2", "c4", "c5"])
        let batch = keyed(try Fixtures.stamp(database))
        #expect(alive(batch[key("c1")]) == false)
        let c2 = try #require(batch[key("c2")])
        #expect(c2.values(policy: Self.policy)["email"] == .text("a@x"))
        #expect(batch.count == 2, "\(batch.keys)")
    }

    @Test("INSERT OR IGNORE, or a plain INSERT that fails, on a taken email sends nothing for the other row")
    func ignoredOrFailed() throws {
        let (dms, database) = try installed()
        #expect(throws: (any Error).self) {
            try dms.execute("INSERT INTO contacts (id, email, name) VALUES ('c3', 'b@x', 'three')")
        }
        #expect(try database.pendingChangeCount() == 0, "what the failed INSERT's triggers logged was rolled back with it")
        try dms.execute("INSERT OR IGNORE INTO contacts (id, email, name) VALUES ('c3', 'a@x', 'three')")
        #expect(try contactIDs(dms) == ["c1", "c2", "c4", "c5"])
        #expect(try Fixtures.stamp(database).isEmpty, "c1 is still there and unchanged")
    }

    @Test("UPSERT ON CONFLICT(email) DO UPDATE sends an update of the existing row, no delete")
    func upsertOnUniqueColumn() throws {
        let (dms, database) = try installed()
        try dms.execute(
            "INSERT INTO contacts (id, email, name) VALUES ('c3', 'a@x', 'renamed') ON CONFLICT(email) DO UPDATE SET name = excluded.name")
        #expect(try contactIDs(dms) == ["c1", "c2", "c4", "c5"])
        let batch = keyed(try Fixtures.stamp(database))
        let c1 = try #require(batch[key("c1")])
        #expect(c1.isAlive(policy: Self.policy))
        #expect(c1.values(policy: Self.policy)["name"] == .text("renamed"))
        #expect(batch.count == 1, "\(batch.keys)")
    }

    @Test("NULLs never collide in a UNIQUE index, so rows with a NULL email are not logged")
    func nullsNeverCollide() throws {
        let (dms, database) = try installed()
        try dms.execute("INSERT OR REPLACE INTO contacts (id, email, name) VALUES ('c6', NULL, 'six')")
        #expect(try contactIDs(dms) == ["c1", "c2", "c4", "c5", "c6"])
        #expect(try database.pendingChangeCount() == 1, "only the new row: c4 and c5 (NULL email too) were not touched")
        let batch = keyed(try Fixtures.stamp(database))
        #expect(Array(batch.keys) == [key("c6")])
        #expect(alive(batch[key("c6")]) == true)
    }

    @Test("a NOCASE UNIQUE index on a BINARY column: 'A@x' replaces the row holding 'a@x'")
    func nocaseIndex() throws {
        let (dms, database) = try installed()
        try dms.execute("INSERT OR REPLACE INTO contacts (id, name, login) VALUES ('c3', 'three', 'A@X')")
        #expect(try contactIDs(dms) == ["c2", "c3", "c4", "c5"])
        let batch = keyed(try Fixtures.stamp(database))
        #expect(alive(batch[key("c1")]) == false, "compared under the index's collation, not the column's")
        #expect(alive(batch[key("c3")]) == true)
        #expect(batch.count == 2, "\(batch.keys)")
    }

    @Test("a two-column UNIQUE index collides only when both columns match")
    func twoColumnIndex() throws {
        let (dms, database) = try installed()
        try dms.execute("INSERT OR REPLACE INTO contacts (id, name, store, number) VALUES ('c3', 'three', 'S1', 7)")
        #expect(try contactIDs(dms) == ["c2", "c3", "c4", "c5"])
        #expect(try database.pendingChangeCount() == 2, "c1 and c3; not c2 (same store) nor c4 (same number)")
        let batch = keyed(try Fixtures.stamp(database))
        #expect(alive(batch[key("c1")]) == false)
        #expect(alive(batch[key("c3")]) == true)
        #expect(batch.count == 2, "\(batch.keys)")
    }

    @Test("expression and partial UNIQUE indexes are skipped without error; the others get triggers as generated")
    func indexesRead() throws {
        let (dms, database) = try installed()
        let shapes = try database.read { db in
            (try TableShape.read(db, table: "contacts"), try TableShape.read(db, table: "tags"))
        }
        let contacts = try #require(shapes.0)
        let tags = try #require(shapes.1)
        let described: [[String]] = contacts.uniqueIndexes.map { index in index.map { "\($0.name)/\($0.collation)" } }
        #expect(described == [["email/BINARY"], ["login/NOCASE"], ["store/BINARY", "number/BINARY"], ["wechat/BINARY"]])
        #expect(tags.uniqueIndexes.isEmpty)
        #expect(try dms.count("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'tags' AND name LIKE '%unique%'") == 0)
        try dms.execute("INSERT INTO tags (id, label) VALUES ('t1', 'Red')")
        #expect(try Fixtures.stamp(database).map(\.key) == [key("t1")])

        // Every trigger is in the file exactly as TriggerBuilder generates it (the per-cycle
        // check compares the two), and the file has no other capture trigger for the table.
        let (expected, inFile) = try database.read { db -> ([String: String], [String: String]) in
            let registration = try #require(try TableRegistration.named(db, "contacts"))
            let builder = registration.builder(for: contacts)
            let rows = try Row.fetchAll(
                db, sql: "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'contacts'")
            return (
                Dictionary(uniqueKeysWithValues: zip(builder.triggerNames, builder.createTriggers)),
                Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as String, $0["sql"] as String) }))
        }
        #expect(expected.count == 4 + 2 * 4)
        #expect(inFile == expected)
    }

    @Test("a UNIQUE index added or dropped by a DMS upgrade rebuilds the triggers")
    func indexAddedAndDropped() throws {
        let (dms, database) = try installed()
        let uniqueTriggers = "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'tags' AND name LIKE '%unique%'"
        try dms.execute("INSERT INTO tags (id, label, code) VALUES ('t1', 'red', 'R'), ('t2', 'blue', 'B')")
        _ = try Fixtures.stamp(database)
        try dms.execute("CREATE UNIQUE INDEX tags_code ON tags (code)")
        #expect(try database.refreshCapture().isEmpty)
        #expect(try dms.count(uniqueTriggers) == 2)
        try dms.execute("INSERT OR REPLACE INTO tags (id, label, code) VALUES ('t3', 'green', 'R')")
        let batch = keyed(try Fixtures.stamp(database))
        #expect(alive(batch[key("t1")]) == false)
        #expect(alive(batch[key("t3")]) == true)

        try dms.execute("DROP INDEX tags_code")
        #expect(try database.refreshCapture().isEmpty)
        #expect(try dms.count(uniqueTriggers) == 0, "the dropped index's triggers go with it")
        try dms.execute("INSERT INTO tags (id, label, code) VALUES ('t4', 'white', 'R')")
        #expect(try Fixtures.stamp(database).map(\.key) == [key("t4")])
    }
}
