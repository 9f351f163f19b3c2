import Foundation
import GRDB
import HQServer
import Hummingbird
import HummingbirdTesting
import SyncCapture
import SyncCore
import SyncTestSupport
import Testing

/// DMS upgrades as Django, Rails, Alembic and Prisma run them on SQLite: the table is
/// rebuilt (`CREATE TABLE new__x`, copy, `DROP TABLE x`, rename), which drops dealersync's
/// triggers, then the DMS goes on writing. The agent must notice at its next cycle, put the
/// triggers back and find every write it missed, with no `resync`: HQ's digest of the store
/// then equals the store's own.
@Suite("DMS table rebuilds")
struct TableRebuildTests {
    /// The 12-step rebuild of SQLite's ALTER TABLE documentation, on the DMS's connection,
    /// with `change` applied to the table's CREATE statement.
    static func rebuild(_ dms: TestDMS, _ table: String, change: (String) -> String) throws {
        try dms.dms.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.inTransaction {
                let create = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", arguments: [table])!
                let renamed = create.replacingOccurrences(of: "CREATE TABLE IF NOT EXISTS \(table)", with: "CREATE TABLE new__\(table)")
                    .replacingOccurrences(of: "CREATE TABLE \(table)", with: "CREATE TABLE new__\(table)")
                try db.execute(sql: change(renamed))
                try db.execute(sql: "INSERT INTO new__\(table) SELECT * FROM \(table)")
                try db.execute(sql: "DROP TABLE \(table)")
                try db.execute(sql: "ALTER TABLE new__\(table) RENAME TO \(table)")
                try db.execute(sql: "PRAGMA foreign_key_check")
                return .commit
            }
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
    }

    /// The shapes of rebuild that DMS migrations make.
    enum Rebuild: String, CaseIterable, CustomTestStringConvertible {
        /// Only a constraint changed (Django AlterField adding a CHECK): columns and types
        /// as before, so comparing shapes saw nothing.
        case sameShape
        /// A column's declared type changed (AlterField to a VARCHAR).
        case changedType

        var testDescription: String { rawValue }

        func apply(_ create: String) -> String {
            switch self {
            case .sameShape: create.replacingOccurrences(of: "mobile TEXT,", with: "mobile TEXT CHECK (length(mobile) <= 40),")
            case .changedType: create.replacingOccurrences(of: "mobile TEXT,", with: "mobile VARCHAR(40),")
            }
        }
    }

    /// 30 new customers, 10 edited, 5 others deleted with their vehicles (captured as
    /// usual: that table kept its triggers). Returns the rows that must reach HQ.
    @discardableResult
    static func writeWhileUncaptured(_ dms: TestDMS, tag: String) throws -> Int {
        for index in 0..<30 {
            try dms.execute("INSERT INTO customers (id, name, mobile) VALUES (?, ?, ?)", ["new-\(tag)-\(index)", "客户 \(index)", "1390000\(1000 + index)"])
        }
        try dms.execute(
            "UPDATE customers SET name = name || ' (edited \(tag))' WHERE id IN (SELECT id FROM customers WHERE id NOT LIKE 'new-%' ORDER BY id LIMIT 10)")
        let doomed = "SELECT id FROM customers WHERE id NOT LIKE 'new-%' AND name NOT LIKE '%(edited%' ORDER BY id DESC LIMIT 5"
        let vehicles = try dms.count("SELECT count(*) FROM vehicles WHERE customer_id IN (\(doomed))")
        try dms.execute("DELETE FROM vehicles WHERE customer_id IN (\(doomed))")
        try dms.execute("DELETE FROM customers WHERE id IN (\(doomed))")
        return 45 + vehicles
    }

    @Test("a rebuild while the agent is stopped: the next cycle restores the triggers and sends exactly the 45 changes made meanwhile", arguments: Rebuild.allCases)
    func rebuildWhileStopped(_ rebuild: Rebuild) async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"])
        try await network.withSettledHQ { port in
            let dms = network.stores["DLR-A"]!
            let database = network.databases["DLR-A"]!
            try Self.rebuild(dms, "customers", change: rebuild.apply)
            // Stopped agent: `status` runs the check itself and says capture is off.
            let off = try database.captureStates().first { $0.table == "customers" }
            #expect(off?.state == .off && off?.reason?.contains("triggers are gone") == true, "\(String(describing: off))")
            let changed = try Self.writeWhileUncaptured(dms, tag: rebuild.rawValue)
            let stopped = try database.status()
            #expect(stopped.health == .broken && stopped.problems.contains { $0.message.contains("capture of 'customers' is off") }, "\(stopped.problems)")

            let first = try await network.cycle("DLR-A", port: port).run()
            #expect(first.pushedRows == changed, "unchanged rows must not be re-sent: pushed \(first.pushedRows) of \(changed) changed")
            _ = try await network.settle(port: port)
            let digests = try await network.digests("DLR-A")
            #expect(digests.dealer == digests.hq, "HQ's digest of the store differs from the store's own")
            let repaired = try #require(try database.captureStates().first { $0.table == "customers" })
            #expect(repaired.state == .ok && repaired.lastRepair?.contains("45 changes") == true, "\(repaired)")
            #expect(try database.status().health == .healthy)
            // HQ saw it too: the store reported the gap with its pulls.
            let atHQ = try await network.store.status(schema: network.schema).first { $0.id == "DLR-A" }?.capture
            #expect(atHQ?.state == .ok && atHQ?.lastGapMillis == repaired.sinceMillis, "\(String(describing: atHQ))")
            // Capture works again: a later edit reaches HQ through the restored triggers.
            try dms.execute("UPDATE customers SET mobile = '13912345678' WHERE id = 'new-\(rebuild.rawValue)-0'")
            #expect(try await network.cycle("DLR-A", port: port).run().pushedRows == 1)
        }
    }

    @Test("a rebuild while the agent runs: writes before and after its repairing cycle all reach HQ")
    func rebuildWhileRunning() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"])
        try await network.withSettledHQ { port in
            let dms = network.stores["DLR-A"]!
            try Self.rebuild(dms, "customers", change: Rebuild.sameShape.apply)
            try dms.execute("INSERT INTO customers (id, name) VALUES ('between-1', '李四')")
            _ = try await network.cycle("DLR-A", port: port).run()
            try Self.writeWhileUncaptured(dms, tag: "after")
            _ = try await network.settle(port: port)
            let digests = try await network.digests("DLR-A")
            #expect(digests.dealer == digests.hq)
        }
    }

    @Test("triggers dropped by hand are put back, and the edits made without them are found")
    func triggersDroppedByHand() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"])
        try await network.withSettledHQ { port in
            let dms = network.stores["DLR-A"]!
            let triggers = try dms.rows("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'vehicles' AND name LIKE '%update'")
            try #require(triggers.count == 1)
            try dms.execute("DROP TRIGGER \(triggers[0]["name"] as String)")
            try dms.execute("UPDATE vehicles SET color = 'matte black' WHERE vin IN (SELECT vin FROM vehicles ORDER BY vin LIMIT 3)")
            let off = try network.databases["DLR-A"]!.captureStates().first { $0.table == "vehicles" }
            #expect(off?.state == .off && off?.reason?.contains("are gone") == true, "\(String(describing: off))")
            #expect(try await network.cycle("DLR-A", port: port).run().pushedRows == 3)
            let digests = try await network.digests("DLR-A")
            #expect(digests.dealer == digests.hq)
        }
    }

    @Test("DROP COLUMN: refused by SQLite while the triggers name the column; after pause-capture it runs, and the next cycle sends what changed")
    func dropColumnAfterPause() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"])
        try await network.withSettledHQ { port in
            let dms = network.stores["DLR-A"]!
            let database = network.databases["DLR-A"]!
            #expect(throws: (any Error).self) { try dms.execute("ALTER TABLE customers DROP COLUMN remarks") }
            #expect(try database.pauseCapture(nowMillis: 1_796_000_000_000).contains("customers"))
            #expect(try database.status().health == .broken)
            try dms.execute("ALTER TABLE customers DROP COLUMN remarks")
            let changed = try Self.writeWhileUncaptured(dms, tag: "dropped")
            // Every row's digest covered the dropped column, so every row is sent once (as
            // docs/CAPTURE.md says); the 45 changes are among them.
            #expect(try await network.cycle("DLR-A", port: port).run().pushedRows >= changed)
            _ = try await network.settle(port: port)
            #expect(try database.captureStates().allSatisfy { $0.state == .ok })
            // HQ keeps the dropped column's old values (a missing column is unknown, never
            // NULL), so compare the rows' other columns: each store row is at HQ as it is here.
            let policy = try #require(network.schema.table(named: "customers")).policy
            for row in try dms.rows("SELECT id, name FROM customers") {
                let key = RowKey([.text(row["id"])])
                let atHQ = try await network.store.rowVersion(table: "customers", key: key, dealer: try NodeID("DLR-A"), schema: network.schema)
                #expect(atHQ?.values(policy: policy)["name"] == .text(row["name"]), "\(row["id"] as String) differs at HQ")
            }
            #expect(try dms.count("SELECT count(*) FROM customers WHERE name LIKE '%(edited dropped)'") == 10)
        }
    }

    @Test("INSERT OR REPLACE through a UNIQUE index added by a DMS upgrade: the row it removes is deleted at HQ too")
    func replaceThroughUniqueIndex() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"])
        try await network.withSettledHQ { port in
            let dms = network.stores["DLR-A"]!
            // A DMS upgrade makes mobile unique; the agent rebuilds its triggers at the next cycle.
            try dms.execute("UPDATE customers SET mobile = '1370000' || printf('%04d', rowid)")
            try dms.execute("CREATE UNIQUE INDEX customers_mobile ON customers(mobile)")
            _ = try await network.settle(port: port)
            let victim = try #require(try dms.rows("SELECT id, mobile FROM customers ORDER BY id LIMIT 1").first)
            try dms.execute("DELETE FROM vehicles WHERE customer_id = ?", [victim["id"] as String])
            // The DMS's ORM "saves" a customer by its mobile: SQLite removes the other row
            // silently (no delete trigger fires without recursive_triggers).
            try dms.execute("INSERT OR REPLACE INTO customers (id, name, mobile) VALUES ('replacer', '吴九', ?)", [victim["mobile"] as String])
            #expect(try dms.count("SELECT count(*) FROM customers WHERE id = '\(victim["id"] as String)'") == 0)
            _ = try await network.settle(port: port)
            let atHQ = try await network.store.rowVersion(
                table: "customers", key: RowKey([.text(victim["id"])]), dealer: try NodeID("DLR-A"), schema: network.schema)
            let policy = try #require(network.schema.table(named: "customers")).policy
            #expect(atHQ.map { !$0.isAlive(policy: policy) } ?? false, "the removed customer is still alive at HQ")
            let digests = try await network.digests("DLR-A")
            #expect(digests.dealer == digests.hq)
        }
    }

    @Test("VACUUM moves tables to new pages: the reconcile that follows finds nothing and sends nothing")
    func vacuumSendsNothing() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"])
        try await network.withSettledHQ { port in
            let dms = network.stores["DLR-A"]!
            // Grow then shrink a table so VACUUM has pages to move.
            try dms.execute("CREATE TABLE scratch (x)")
            try dms.execute("INSERT INTO scratch SELECT randomblob(4000) FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3)")
            try dms.execute("DROP TABLE scratch")
            try await dms.dms.writeWithoutTransaction { db in try db.execute(sql: "VACUUM") }
            let report = try await network.cycle("DLR-A", port: port).run()
            #expect(report.pushedRows == 0)
            let states = try network.databases["DLR-A"]!.captureStates()
            #expect(states.allSatisfy { $0.state == .ok }, "\(states)")
        }
    }
}
