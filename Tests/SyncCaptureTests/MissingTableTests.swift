import Foundation
import GRDB
import Testing
@testable import SyncCapture
import SyncCore
import SyncTestSupport

/// A synced table the store's DMS has not created yet (a module not installed yet): `init`
/// goes on without it, and rows HQ sends for it are kept until it exists (issue 15, item 5).
@Suite("A synced table the DMS has not created yet")
struct MissingTableTests {
    let other = try! NodeID("DLR-2")
    func t(_ ms: Int64) -> HLCTimestamp { HLCTimestamp(physicalMillis: UInt64(Fixtures.wall + ms), logical: 0) }

    /// The fixture schema plus two tables the fixture DMS does not have: `warranties`
    /// (both ways, so this store pulls it) and `rentals` (up only, so it does not).
    static let schema = try! SyncSchema(
        yaml: Fixtures.schemaYAML + "\n  - name: warranties\n    direction: both\n  - name: rentals\n    direction: up\n")
    static let warrantiesSQL = "CREATE TABLE warranties (id TEXT PRIMARY KEY, vin TEXT NOT NULL, months INTEGER)"
    static let warrantiesWarning = "table 'warranties' is not in the DMS database yet: rows HQ sends for it wait until it exists"
    static let refuseBadCustomer =
        "CREATE TRIGGER dms_refuse BEFORE INSERT ON customers WHEN NEW.name = 'bad' BEGIN SELECT RAISE(ABORT, 'refused by the DMS'); END"

    static func installed() throws -> (TestDMS, DealerDatabase, InstallReport) {
        let dms = try TestDMS(schemaSQL: Fixtures.dmsSQL)
        let database = try dms.open()
        let report = try database.install(schema: schema)
        return (dms, database, report)
    }

    func warranty(_ id: String, vin: String, months: Int64, counter: UInt64) -> RowVersion {
        .inserted(
            table: "warranties", key: RowKey([.text(id)]), values: ["vin": .text(vin), "months": .integer(months)],
            dot: Dot(node: other, counter: counter), hlc: t(0))
    }

    func customer(_ id: String, name: String, counter: UInt64) -> RowVersion {
        .inserted(table: "customers", key: RowKey([.text(id)]), values: ["name": .text(name)], dot: Dot(node: other, counter: counter), hlc: t(0))
    }

    @Test("init with a schema table missing from the DMS succeeds, warns with its name and registers nothing for it")
    func initWarns() throws {
        let dms = try TestDMS(schemaSQL: Fixtures.dmsSQL)
        let before = try dms.schemaListing()
        let database = try dms.open()
        let checked = try database.validate(schema: Self.schema)
        #expect(checked.count == 2 && checked.first == Self.warrantiesWarning, "\(checked)")
        #expect(try dms.schemaListing() == before, "validate changes nothing")

        let report = try database.install(schema: Self.schema)
        #expect(report.waitingTables == ["warranties", "rentals"])
        #expect(report.warnings == [Self.warrantiesWarning, "table 'rentals' is not in the DMS database yet: its rows sync once it exists"])
        #expect(report.tables == ["customers", "order", "service_orders", "attachments", "audit"])
        #expect(try dms.count("SELECT count(*) FROM _dealersync_tables WHERE name IN ('warranties', 'rentals')") == 0)
        #expect(try dms.count("SELECT count(*) FROM _dealersync_tables") == 6)
        #expect(try dms.count("SELECT count(*) FROM sqlite_schema WHERE name IN ('warranties', 'rentals')") == 0, "the DMS schema is left alone")

        // The tables that exist are captured as usual, and the store is healthy.
        try dms.execute("INSERT INTO customers (id, name) VALUES ('c1', 'a')")
        #expect(try database.pendingChangeCount() == 1)
        #expect(try database.status().health == .healthy)

        // A name that differs from a DMS table only in case is a typo, not a table to come.
        let typo = try SyncSchema(yaml: "version: 1\ntables:\n  - name: Customers\n    direction: both\n")
        let fresh = try TestDMS(schemaSQL: Fixtures.dmsSQL).open()
        #expect(throws: CaptureError.self) { try fresh.validate(schema: typo) }
        #expect(throws: CaptureError.self) { try fresh.install(schema: typo) }
    }

    @Test("a row HQ sends for the missing table is held, not skipped; it survives cycles and is applied with its values once the table exists and is registered")
    func heldUntilTheTableExists() throws {
        let (dms, database, _) = try Self.installed()
        let first = warranty("w1", vin: "LVSHCAMB1CE000001", months: 24, counter: 1)
        let rental = RowVersion.inserted(
            table: "rentals", key: RowKey([.text("r1")]), values: ["car": .text("x")], dot: Dot(node: .hq, counter: 1), hlc: t(0))
        let unknown = RowVersion.inserted(
            table: "not_in_schema", key: RowKey([.text("n1")]), values: ["a": .text("x")], dot: Dot(node: .hq, counter: 2), hlc: t(0))
        let report = try database.apply(
            [first, customer("c9", name: "远程", counter: 2), rental, unknown], cursor: "page-1", wallMillis: Fixtures.wall)
        #expect(report.held == 1 && report.applied == 1, "\(report)")
        #expect(report.skipped == 2, "tables this store does not pull stay skipped")
        #expect(try database.pullCursor() == "page-1", "the pull goes on")
        let held = try database.heldRows()
        #expect(held.map(\.table) == ["warranties"])
        #expect(held.first?.reason == "table 'warranties' is not in the DMS database yet")

        // A newer version of the row from HQ replaces the one kept.
        var second = first
        second.write(["months": .integer(36)], dot: Dot(node: .hq, counter: 3), hlc: t(1_000))
        #expect(try database.apply([second], cursor: "page-2", wallMillis: Fixtures.wall + 1_000).held == 1)
        #expect(try database.heldRows().count == 1)
        let attempts = try database.heldRows().first?.attempts

        // Cycles pass: the row is neither retried nor counted, and stays.
        for cycle in 1...3 {
            #expect(try database.retryHeldRows(wallMillis: Fixtures.wall + Int64(cycle) * 60_000) == ApplyReport())
        }
        #expect(try database.heldRows().first?.attempts == attempts)

        // The DMS creates the table (its module installed), with a row of its own. Until the
        // table is registered the row still waits.
        try dms.execute(Self.warrantiesSQL)
        try dms.execute("INSERT INTO warranties (id, vin, months) VALUES ('w2', 'LOCAL', 12)")
        #expect(try database.retryHeldRows(wallMillis: Fixtures.wall + 240_000) == ApplyReport())
        #expect(try database.heldRows().count == 1)

        // Registration, as `init` does it (the agent's per-cycle refresh registers new tables
        // the same way), then the next cycle's retry applies the kept row.
        let again = try database.install(schema: Self.schema)
        #expect(again.waitingTables == ["rentals"] && again.tables.contains("warranties"))
        #expect(again.snapshotRows == 1, "the DMS's own row is queued for HQ")
        let retried = try database.retryHeldRows(wallMillis: Fixtures.wall + 300_000)
        #expect(retried.applied == 1 && retried.held == 0, "\(retried)")
        let row = try #require(try dms.rows("SELECT vin, months FROM warranties WHERE id = 'w1'").first)
        #expect(row["vin"] as String == "LVSHCAMB1CE000001" && row["months"] as Int64 == 36, "HQ's newest values")
        #expect(try database.heldRows().isEmpty)
        #expect(try database.retryHeldRows(wallMillis: Fixtures.wall + 360_000) == ApplyReport())

        let status = try database.status()
        #expect(status.health == .healthy && status.waitingForTables.isEmpty && status.heldRows == 0, "\(status.problems)")

        // The applied row is not captured back; the DMS's own row goes to HQ.
        let pushed = try Fixtures.stamp(database)
        #expect(pushed.map(\.key) == [RowKey([.text("w2")])] && pushed.allSatisfy { $0.table == "warranties" })
    }

    @Test("rows waiting for a missing table never crowd out the retries of other tables")
    func waitingRowsDoNotBlockRetries() throws {
        let (dms, database, _) = try Self.installed()
        // More waiting rows than one retry takes (1,000), all older than the refused row.
        let waiting = (0..<1_200).map { warranty("w\($0)", vin: "V\($0)", months: 12, counter: UInt64($0 + 1)) }
        #expect(try database.apply(waiting, cursor: "page-1", wallMillis: Fixtures.wall).held == 1_200)
        try dms.execute(Self.refuseBadCustomer)
        let refused = try database.apply([customer("c1", name: "bad", counter: 5_000)], cursor: "page-2", wallMillis: Fixtures.wall + 60_000)
        #expect(refused.held == 1)

        try dms.execute("DROP TRIGGER dms_refuse")
        let retried = try database.retryHeldRows(wallMillis: Fixtures.wall + 120_000)
        #expect(retried.applied == 1 && retried.held == 0, "\(retried)")
        #expect(try dms.count("SELECT count(*) FROM customers WHERE id = 'c1' AND name = 'bad'") == 1)
        let left = try database.heldRows(limit: 5_000)
        #expect(left.count == 1_200)
        #expect(left.allSatisfy { $0.table == "warranties" && $0.attempts == 1 }, "waiting rows are not retried")
    }

    @Test("status counts rows waiting for a table apart, without degrading health; rows the DMS refused still degrade it")
    func statusShowsWaiting() throws {
        let (dms, database, _) = try Self.installed()
        _ = try database.apply(
            (0..<3).map { warranty("w\($0)", vin: "V\($0)", months: 12, counter: UInt64($0 + 1)) }, cursor: "page-1", wallMillis: Fixtures.wall)
        var status = try database.status()
        #expect(status.health == .healthy, "\(status.problems)")
        #expect(status.heldRows == 0 && status.waitingForTables == ["warranties": 3])
        #expect(status.problems.contains { $0.message == "3 rows from HQ wait for table 'warranties', which is not in the DMS database yet" })
        #expect(!status.problems.contains { $0.message.contains("refused") })

        try dms.execute(Self.refuseBadCustomer)
        _ = try database.apply([customer("c1", name: "bad", counter: 10)], cursor: "page-2", wallMillis: Fixtures.wall + 60_000)
        status = try database.status()
        #expect(status.health == .degraded && status.heldRows == 1 && status.waitingForTables == ["warranties": 3])
        #expect(status.problems.contains { $0.message.hasPrefix("1 rows from HQ were refused by the DMS") && $0.message.contains("customers") })

        // Created but not registered yet: still waiting, and said so.
        try dms.execute("DROP TRIGGER dms_refuse")
        try dms.execute(Self.warrantiesSQL)
        status = try database.status()
        #expect(status.waitingForTables == ["warranties": 3] && status.heldRows == 1)
        #expect(status.problems.contains { $0.message == "3 rows from HQ wait for table 'warranties' to be set up for sync" })

        _ = try database.install(schema: Self.schema)
        let retried = try database.retryHeldRows(wallMillis: Fixtures.wall + 120_000)
        #expect(retried.applied == 4 && retried.held == 0, "\(retried)")
        status = try database.status()
        #expect(status.health == .healthy && status.heldRows == 0 && status.waitingForTables.isEmpty, "\(status.problems)")
        #expect(try dms.count("SELECT count(*) FROM warranties") == 3)
    }
}
