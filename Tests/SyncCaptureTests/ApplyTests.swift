import Foundation
import GRDB
import Testing
@testable import SyncCapture
import SyncCore
import SyncTestSupport

@Suite("Apply of remote row versions")
struct ApplyTests {
    let hq = NodeID.hq
    let other = try! NodeID("DLR-2")
    func t(_ ms: Int64) -> HLCTimestamp { HLCTimestamp(physicalMillis: UInt64(Fixtures.wall + ms), logical: 0) }

    func remoteCustomer(_ id: String, _ values: [String: SQLValue], node: NodeID, counter: UInt64 = 1) -> RowVersion {
        .inserted(table: "customers", key: RowKey([.text(id)]), values: values, dot: Dot(node: node, counter: counter), hlc: t(0))
    }

    @Test("a remote row is written to the DMS, is not captured again, and a repeated apply changes nothing")
    func applyAndGuard() throws {
        let (dms, database) = try Fixtures.installed()
        let remote = remoteCustomer("r1", ["name": .text("远程"), "mobile": .text("13900000000"), "visits": .integer(2), "class": .text("A")], node: other)
        let report = try database.apply([remote], cursor: "c-1", wallMillis: Fixtures.wall)
        #expect(report.applied == 1)
        let row = try #require(try dms.rows("SELECT name, visits FROM customers WHERE id = 'r1'").first)
        #expect(row["name"] as String == "远程" && row["visits"] as Int == 2)
        #expect(try database.pendingChangeCount() == 0, "applied rows are not captured")
        #expect(try database.pullCursor() == "c-1")
        let again = try database.apply([remote], cursor: "c-1", wallMillis: Fixtures.wall)
        #expect(again.applied == 0 && again.unchanged == 1)
        #expect(try database.outbox().isEmpty)
    }

    @Test("the guard is invisible to the DMS: its own writes during and after apply are captured")
    func guardInvisible() throws {
        let (dms, database) = try Fixtures.installed()
        _ = try database.apply([remoteCustomer("r1", ["name": .text("a")], node: other)], cursor: nil, wallMillis: Fixtures.wall)
        #expect(try dms.count("SELECT count(*) FROM _dealersync_guard") == 0)
        try dms.execute("UPDATE customers SET name = 'b' WHERE id = 'r1'")
        #expect(try database.pendingChangeCount() == 1)
    }

    @Test("a pending local edit is stamped before the merge and wins or loses by the rule, never silently")
    func pendingLocalEdit() throws {
        let (dms, database) = try Fixtures.installed()
        let base = remoteCustomer("r1", ["name": .text("a"), "mobile": .text("m0"), "class": .text("B")], node: other)
        _ = try database.apply([base], cursor: nil, wallMillis: Fixtures.wall)
        // Local edit of mobile, not yet pushed; concurrently HQ changes class (hq-owned) and mobile.
        try dms.execute("UPDATE customers SET mobile = 'local' WHERE id = 'r1'")
        var hqVersion = base
        hqVersion.write(["class": .text("VIP"), "mobile": .text("hq")], dot: Dot(node: hq, counter: 1), hlc: t(-60_000))
        let report = try database.apply([hqVersion], cursor: "c-2", wallMillis: Fixtures.wall + 1000)
        #expect(report.stampedLocal == 1 && report.conflicts == 1)
        let row = try #require(try dms.rows("SELECT mobile, class FROM customers WHERE id = 'r1'").first)
        #expect(row["class"] as String == "VIP")
        #expect(row["mobile"] as String == "local", "the later local write wins last-writer-wins")
        let conflict = try #require(try dms.rows("SELECT * FROM _dealersync_conflicts").first)
        #expect(conflict["column_name"] as String == "mobile" && conflict["reason"] as String == "last-writer-wins")
        #expect((conflict["losing_values"] as Data?) != nil && (conflict["winning_value"] as Data?) != nil, "both values kept")
        #expect(try database.outbox().count == 1, "the stamped local edit waits in the outbox")
    }

    @Test("a remote delete removes the row; a concurrent local update wins over it")
    func deletes() throws {
        let (dms, database) = try Fixtures.installed()
        let base = remoteCustomer("r1", ["name": .text("a")], node: other)
        _ = try database.apply([base, remoteCustomer("r2", ["name": .text("b")], node: other, counter: 2)], cursor: nil, wallMillis: Fixtures.wall)
        var deleteR1 = base
        deleteR1.delete(dot: Dot(node: other, counter: 3), hlc: t(10))
        _ = try database.apply([deleteR1], cursor: nil, wallMillis: Fixtures.wall)
        #expect(try dms.count("SELECT count(*) FROM customers WHERE id = 'r1'") == 0)

        try dms.execute("UPDATE customers SET name = 'local' WHERE id = 'r2'")
        var deleteR2 = remoteCustomer("r2", ["name": .text("b")], node: other, counter: 2)
        deleteR2.delete(dot: Dot(node: other, counter: 4), hlc: t(99_000))
        let report = try database.apply([deleteR2], cursor: nil, wallMillis: Fixtures.wall)
        #expect(report.conflicts == 1)
        #expect(try dms.count("SELECT count(*) FROM customers WHERE id = 'r2'") == 1, "update wins over delete")
    }

    @Test("a down table is applied; an up table from HQ is skipped")
    func directions() throws {
        let (dms, database) = try Fixtures.installed()
        let model = RowVersion.inserted(
            table: "models", key: RowKey([.text("M1")]), values: ["price": .real(1.0)], dot: Dot(node: hq, counter: 1), hlc: t(0))
        let audit = RowVersion.inserted(
            table: "audit", key: RowKey([.integer(5)]), values: ["note": .text("x")], dot: Dot(node: hq, counter: 2), hlc: t(0))
        let report = try database.apply([model, audit], cursor: nil, wallMillis: Fixtures.wall)
        #expect(report.applied == 1 && report.skipped == 1)
        #expect(try dms.rows("SELECT typeof(price) AS t FROM models").first?["t"] as String? == "real", "1.0 stays REAL")
    }

    @Test("a database failure mid-apply rolls back that chunk only; the cursor is not saved; a re-apply completes and is idempotent")
    func failureMidApply() throws {
        let (dms, database) = try Fixtures.installed()
        let rows = (0..<10).map { remoteCustomer("r\($0)", ["name": .text($0 == 7 ? "bad" : "ok")], node: other, counter: UInt64($0 + 1)) }
        // A DMS trigger that cannot run (its table is gone): a database fault, not one row's.
        try dms.execute("CREATE TABLE dms_audit (note TEXT)")
        try dms.execute("CREATE TRIGGER dms_broken AFTER INSERT ON customers WHEN NEW.name = 'bad' BEGIN INSERT INTO dms_audit VALUES ('x'); END")
        try dms.execute("DROP TABLE dms_audit")
        #expect(throws: (any Error).self) { try database.apply(rows, cursor: "page-1", wallMillis: Fixtures.wall, chunkSize: 5, adaptive: false) }
        #expect(try dms.count("SELECT count(*) FROM customers") == 0, "every insert into customers fails while the trigger is broken")
        #expect(try database.pullCursor() == nil)
        #expect(try dms.count("SELECT count(*) FROM _dealersync_guard") == 0)
        #expect(try database.heldRows().isEmpty, "a database fault holds no row")
        try dms.execute("DROP TRIGGER dms_broken")
        let report = try database.apply(rows, cursor: "page-1", wallMillis: Fixtures.wall, chunkSize: 5, adaptive: false)
        #expect(report.applied == 10)
        #expect(try database.pullCursor() == "page-1")
        #expect(try dms.count("SELECT count(*) FROM customers") == 10)
        #expect(try database.apply(rows, cursor: "page-1", wallMillis: Fixtures.wall).unchanged == 10)
        #expect(try database.pendingChangeCount() == 0)
    }

    @Test("a row the DMS refuses is held, not dropped and not stalling the page; it lands once the DMS takes it")
    func refusedRowIsHeld() throws {
        let (dms, database) = try Fixtures.installed()
        // The DMS refuses one row with its own trigger, as a real DMS constraint would.
        try dms.execute("CREATE TRIGGER dms_refuse BEFORE INSERT ON customers WHEN NEW.name = 'bad' BEGIN SELECT RAISE(ABORT, 'refused by the DMS'); END")
        var rows = (0..<10).map { remoteCustomer("r\($0)", ["name": .text($0 == 7 ? "bad" : "ok")], node: other, counter: UInt64($0 + 1)) }
        // A key that does not fit the table (two values for a one-column key).
        rows.append(.inserted(table: "customers", key: RowKey([.text("x"), .text("y")]), values: ["name": .text("k")], dot: Dot(node: hq, counter: 1), hlc: t(0)))
        let report = try database.apply(rows, cursor: "page-1", wallMillis: Fixtures.wall, chunkSize: 5, adaptive: false)
        #expect(report.applied == 9 && report.held == 2)
        #expect(try database.pullCursor() == "page-1", "the page is done; the refused rows wait aside")
        #expect(try dms.count("SELECT count(*) FROM customers") == 9)
        let held = try database.heldRows()
        #expect(Set(held.map(\.reason)) == ["refused by the DMS", "a row for customers has 2 key values; the table's key has 1"])
        let status = try database.status()
        #expect(status.heldRows == 2 && status.health == .degraded)
        #expect(status.problems.contains { $0.message.contains("2 rows from HQ were refused") && !$0.message.contains("bad") })

        #expect(try database.retryHeldRows(wallMillis: Fixtures.wall).held == 2, "still refused: kept, attempt counted")
        #expect(try database.heldRows().allSatisfy { $0.attempts == 2 })
        try dms.execute("DROP TRIGGER dms_refuse")
        let retried = try database.retryHeldRows(wallMillis: Fixtures.wall)
        #expect(retried.applied == 1 && retried.held == 1)
        #expect(try dms.count("SELECT count(*) FROM customers WHERE id = 'r7' AND name = 'bad'") == 1)
        #expect(try database.heldRows().count == 1, "the unfit key stays held until HQ corrects it")
        #expect(try database.pendingChangeCount() == 0, "the late row is not captured back")
    }
}
