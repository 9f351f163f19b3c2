import Foundation
import GRDB
import Testing
@testable import SyncCapture
import SyncCore
import SyncTestSupport

@Suite("Capture of DMS writes")
struct CaptureTests {
    func values(_ version: RowVersion) -> [String: SQLValue] { version.values(policy: .lastWriterWins) }

    @Test("insert, update of some columns, no-op update, delete")
    func basicLifecycle() throws {
        let (dms, database) = try Fixtures.installed()
        try dms.execute("INSERT INTO customers (id, name, mobile) VALUES ('c1', '韩梅梅', '13800000001')")
        let inserted = try #require(try Fixtures.stamp(database).first)
        #expect(inserted.table == "customers" && inserted.key == RowKey([.text("c1")]))
        #expect(values(inserted)["name"] == .text("韩梅梅") && values(inserted)["visits"] == .integer(0))
        #expect(values(inserted)["name_upper"] == nil, "generated columns are not synced")
        #expect(values(inserted)["id"] == nil, "the key travels as the row key")

        try dms.execute("UPDATE customers SET mobile = '13800000002' WHERE id = 'c1'")
        let updated = try #require(try Fixtures.stamp(database).first)
        let mobileDot = try #require(updated.writes(of: "mobile").first?.dot)
        #expect(updated.writes(of: "name").first?.dot != mobileDot, "only the changed column gets the new dot")
        #expect(updated.versionVector[database.node] == mobileDot.counter)

        try dms.execute("UPDATE customers SET mobile = mobile, name = name WHERE id = 'c1'")
        #expect(try database.pendingChangeCount() == 0, "an update that changes nothing records nothing")
        try dms.execute("UPDATE customers SET class = 'vip' WHERE id = 'c1'")
        try dms.execute("UPDATE customers SET class = 'VIP' WHERE id = 'c1'")
        #expect(try database.pendingChangeCount() == 1, "a NOCASE column's case change is still a change; updates coalesce")
        _ = try Fixtures.stamp(database)
        try dms.execute("UPDATE customers SET visits = 1.0 WHERE id = 'c1'")
        try dms.execute("UPDATE customers SET visits = 1 WHERE id = 'c1'")
        #expect(try database.pendingChangeCount() == 1)
        try dms.execute("UPDATE customers SET visits = CAST(1 AS REAL) WHERE id = 'c1'")
        _ = try Fixtures.stamp(database)

        try dms.execute("DELETE FROM customers WHERE id = 'c1'")
        let deleted = try #require(try Fixtures.stamp(database).first)
        #expect(!deleted.isAlive(policy: .lastWriterWins))
    }

    @Test("many updates of one row before a push coalesce to one entry; insert then delete sends nothing")
    func coalescing() throws {
        let (dms, database) = try Fixtures.installed()
        try dms.execute("INSERT INTO customers (id, name) VALUES ('c1', 'a')")
        for index in 0..<50 { try dms.execute("UPDATE customers SET visits = ? WHERE id = 'c1'", [index + 1]) }
        #expect(try database.pendingChangeCount() == 1)
        let batch = try Fixtures.stamp(database)
        #expect(batch.count == 1 && values(batch[0])["visits"] == .integer(50))
        try dms.execute("INSERT INTO customers (id, name) VALUES ('tmp', 'x')")
        try dms.execute("DELETE FROM customers WHERE id = 'tmp'")
        #expect(try Fixtures.stamp(database).isEmpty)
    }

    @Test("a primary-key change is a delete of the old key and an insert of the new one")
    func keyChange() throws {
        let (dms, database) = try Fixtures.installed()
        try dms.execute("INSERT INTO customers (id, name) VALUES ('old', 'a')")
        _ = try Fixtures.stamp(database)
        try dms.execute("UPDATE customers SET id = 'new' WHERE id = 'old'")
        let batch = try Fixtures.stamp(database)
        let byKey = Dictionary(uniqueKeysWithValues: batch.map { ($0.key, $0) })
        #expect(byKey[RowKey([.text("old")])]?.isAlive(policy: .lastWriterWins) == false)
        #expect(byKey[RowKey([.text("new")])].map { values($0)["name"] } == .text("a"))
    }

    @Test("composite keys in a WITHOUT ROWID table named order, a non-ASCII column, BLOB keys, NULLs")
    func awkwardShapes() throws {
        let (dms, database) = try Fixtures.installed()
        try dms.execute("INSERT INTO \"order\" VALUES ('S1', 7, '王 五', NULL)")
        try dms.execute("INSERT INTO attachments VALUES (x'00ff10', x'')")
        try dms.execute("INSERT INTO attachments VALUES (x'', NULL)")
        let batch = try Fixtures.stamp(database)
        let order = try #require(batch.first { $0.table == "order" })
        #expect(order.key == RowKey([.text("S1"), .integer(7)]))
        #expect(values(order)["客户 名称"] == .text("王 五") && values(order)["total"] == .null)
        let blobs = batch.filter { $0.table == "attachments" }
        #expect(Set(blobs.map(\.key)) == [RowKey([.blob([0, 255, 16])]), RowKey([.blob([])])])
        #expect(blobs.first { $0.key == RowKey([.blob([0, 255, 16])]) }.map { values($0)["body"] } == .blob([]))
        try dms.execute("UPDATE \"order\" SET \"客户 名称\" = NULL WHERE store = 'S1'")
        let update = try #require(try Fixtures.stamp(database).first)
        #expect(values(update)["客户 名称"] == .null)
    }

    @Test("INSERT OR REPLACE, UPSERT, ON DELETE CASCADE and the DMS's own triggers are captured")
    func dmsWriteForms() async throws {
        let (dms, database) = try Fixtures.installed()
        try dms.execute("INSERT INTO customers (id, name) VALUES ('c1', 'a')")
        try dms.execute("INSERT INTO customers (id, name) VALUES ('c3', 'z')")
        try dms.execute("INSERT INTO service_orders (id, customer_id, status) VALUES ('s1', 'c1', 'open')")
        try dms.execute("INSERT INTO service_orders (id, customer_id, status) VALUES ('s3', 'c3', 'open')")
        _ = try Fixtures.stamp(database)
        try dms.execute("INSERT OR REPLACE INTO customers (id, name, visits) VALUES ('c1', 'b', 3)")
        try dms.execute("INSERT INTO customers (id, name) VALUES ('c2', 'x') ON CONFLICT(id) DO UPDATE SET name = excluded.name")
        try dms.execute("INSERT INTO customers (id, name) VALUES ('c2', 'y') ON CONFLICT(id) DO UPDATE SET name = excluded.name")
        try dms.execute("UPDATE service_orders SET status = 'done' WHERE id = 's3'")
        let batch = try Fixtures.stamp(database)
        let c1 = try #require(batch.first { $0.key == RowKey([.text("c1")]) })
        #expect(values(c1)["name"] == .text("b") && values(c1)["visits"] == .integer(3))
        #expect(batch.first { $0.key == RowKey([.text("c2")]) }.map { values($0)["name"] } == .text("y"))
        // REPLACE deleted the old c1 row, and the foreign key cascaded to its service order.
        let s1 = try #require(batch.first { $0.key == RowKey([.text("s1")]) })
        #expect(!s1.isAlive(policy: .lastWriterWins), "the cascade of a REPLACE is captured")
        let s3 = try #require(batch.first { $0.key == RowKey([.text("s3")]) })
        #expect(values(s3)["status"] == .text("done") && values(s3)["updated_count"] == .integer(1), "the DMS trigger's write is captured too")

        try dms.execute("DELETE FROM customers WHERE id = 'c3'")
        let cascade = try Fixtures.stamp(database)
        #expect(Set(cascade.filter { !$0.isAlive(policy: .lastWriterWins) }.map(\.table)) == ["customers", "service_orders"])
    }

    @Test("writes from the sqlite3 shell and from Python fire the capture triggers")
    func otherWriters() async throws {
        let (dms, database) = try Fixtures.installed()
        try await run("/usr/bin/sqlite3", [dms.path, "INSERT INTO customers (id, name) VALUES ('shell', '壳');"])
        try await run("/usr/bin/env", [
            "python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"INSERT INTO customers (id, name) VALUES ('py', '蟒')\"); c.commit()",
            dms.path,
        ])
        let keys = Set(try Fixtures.stamp(database).map(\.key))
        #expect(keys == [RowKey([.text("shell")]), RowKey([.text("py")])])
    }

    func run(_ executable: String, _ arguments: [String]) async throws {
        let result = try await ProcessRunner.run(URL(fileURLWithPath: executable), arguments)
        #expect(result.status == 0, "\(executable) \(arguments.first ?? "") failed: \(result.stderr)")
    }

    @Test("an up table with an INTEGER autoincrement key is captured; a down table is not")
    func directions() throws {
        let (dms, database) = try Fixtures.installed()
        try dms.execute("INSERT INTO audit (note) VALUES ('x')")
        try dms.execute("INSERT INTO models VALUES ('M1', 1.0)")
        let batch = try Fixtures.stamp(database)
        #expect(batch.map(\.table) == ["audit"])
        #expect(batch[0].key == RowKey([.integer(1)]))
    }

    @Test("a column added to a synced table is noticed, the triggers rebuilt, and the column syncs, with what a data migration wrote before the rebuild and its DEFAULT")
    func addedColumn() throws {
        let (dms, database) = try Fixtures.installed()
        try dms.execute("INSERT INTO customers (id, name) VALUES ('c1', 'a')")
        try dms.execute("INSERT INTO customers (id, name) VALUES ('c2', 'b')")
        _ = try Fixtures.stamp(database)
        // A Django/Rails migration: add the column, fill it in the same migration, before
        // the agent's next cycle rebuilds the triggers.
        try dms.execute("ALTER TABLE customers ADD COLUMN wechat TEXT")
        try dms.execute("UPDATE customers SET wechat = 'wx-1' WHERE id = 'c1'")
        #expect(try database.pendingChangeCount() == 0, "the old triggers do not see the new column")
        #expect(try database.refreshCapture().isEmpty)
        let migrated = try Fixtures.stamp(database)
        #expect(migrated.map(\.key) == [RowKey([.text("c1")])], "only the row the migration filled is sent; c2's NULL is what HQ has")
        #expect(values(migrated[0])["wechat"] == .text("wx-1"))
        try dms.execute("ALTER TABLE customers ADD COLUMN tier TEXT NOT NULL DEFAULT 'standard'")
        #expect(try database.refreshCapture().isEmpty)
        let defaults = try Fixtures.stamp(database)
        #expect(defaults.count == 2 && defaults.allSatisfy { values($0)["tier"] == .text("standard") }, "a DEFAULT fills every row")
        try dms.execute("UPDATE customers SET wechat = 'wx-2' WHERE id = 'c1'")
        let update = try #require(try Fixtures.stamp(database).first)
        #expect(values(update)["wechat"] == .text("wx-2"))
    }

    @Test("a synced table dropped or renamed is reported, and the other tables keep syncing")
    func droppedTable() throws {
        let (dms, database) = try Fixtures.installed()
        try dms.execute("DROP TABLE attachments")
        try dms.execute("ALTER TABLE \"order\" RENAME TO orders_old")
        let problems = try database.refreshCapture()
        #expect(Set(problems.map(\.table)) == ["attachments", "order"])
        #expect(problems.allSatisfy { $0.message.contains("dropped or renamed") })
        try dms.execute("INSERT INTO customers (id, name) VALUES ('c1', 'a')")
        #expect(try Fixtures.stamp(database).map(\.table) == ["customers"])
    }
}
