import Foundation
import GRDB
import Testing
@testable import SyncCapture
import SyncCore
import SyncTestSupport

@Suite("Conflict review and resync")
struct RepairTests {
    let other = try! NodeID("DLR-2")
    func t(_ ms: Int64) -> HLCTimestamp { HLCTimestamp(physicalMillis: UInt64(Fixtures.wall + ms), logical: 0) }

    /// A store where a local mobile edit beat HQ's concurrent one (last writer), and HQ's
    /// class beat a local one (owner): two logged conflicts.
    func conflictedStore() throws -> (TestDMS, DealerDatabase) {
        let (dms, database) = try Fixtures.installed()
        let base = RowVersion.inserted(
            table: "customers", key: RowKey([.text("r1")]), values: ["name": .text("a"), "mobile": .text("m0"), "class": .text("B")],
            dot: Dot(node: other, counter: 1), hlc: t(0))
        _ = try database.apply([base], cursor: nil, wallMillis: Fixtures.wall)
        try dms.execute("UPDATE customers SET mobile = 'local', class = 'C' WHERE id = 'r1'")
        var hq = base
        hq.write(["class": .text("VIP"), "mobile": .text("hq")], dot: Dot(node: .hq, counter: 1), hlc: t(-60_000))
        _ = try database.apply([hq], cursor: nil, wallMillis: Fixtures.wall + 1000)
        _ = try Fixtures.stamp(database)
        return (dms, database)
    }

    @Test("list and show give the row, the rule, the kept and the losing value; --keep changes no data and is repeatable")
    func keep() throws {
        let (dms, database) = try conflictedStore()
        let open = try database.conflicts(includeResolved: false)
        #expect(Set(open.map(\.reason)) == ["last-writer-wins", "owner-wins"])
        let mobile = try #require(open.first { $0.column == "mobile" })
        #expect(mobile.winningValue == .text("local") && mobile.losingValues == [.text("hq")] && mobile.resolvedAt == nil)
        #expect(try database.conflict(id: mobile.id) == mobile)

        let resolved = try database.resolveConflict(id: mobile.id, choice: .keep, wallMillis: Fixtures.wall + 5000)
        #expect(resolved.resolvedAt != nil)
        #expect(try database.resolveConflict(id: mobile.id, choice: .keep, wallMillis: Fixtures.wall + 9000).resolvedAt == resolved.resolvedAt)
        #expect(try database.conflicts(includeResolved: false).map(\.column) == ["class"])
        #expect(try database.conflicts(includeResolved: true).count == 2)
        #expect(try dms.rows("SELECT mobile FROM customers").first?["mobile"] as String? == "local")
        #expect(try database.pendingChangeCount() == 0)
        #expect(throws: CaptureError.self) { try database.conflict(id: 999) }
    }

    @Test("--use-losing writes the losing value back as a local edit that replaces every write of the conflict")
    func useLosing() throws {
        let (dms, database) = try conflictedStore()
        let mobile = try #require(try database.conflicts().first { $0.column == "mobile" })
        try database.resolveConflict(id: mobile.id, choice: .useLosing(loser: nil), wallMillis: Fixtures.wall + 5000)
        #expect(try dms.rows("SELECT mobile FROM customers").first?["mobile"] as String? == "hq")
        let sent = try Fixtures.stamp(database)
        let version = try #require(sent.first)
        #expect(version.values(policy: Fixtures.schema.table(named: "customers")!.policy)["mobile"] == .text("hq"))
        #expect(!version.conflicts(policy: Fixtures.schema.table(named: "customers")!.policy).contains { $0.column == "mobile" },
            "the new write has seen both values, so the column holds one write")
        #expect(throws: CaptureError.self, "writing back twice is refused") {
            try database.resolveConflict(id: mobile.id, choice: .useLosing(loser: nil), wallMillis: Fixtures.wall + 6000)
        }
        let owned = try #require(try database.conflicts().first { $0.column == "class" })
        do {
            try database.resolveConflict(id: owned.id, choice: .useLosing(loser: nil), wallMillis: Fixtures.wall)
            Issue.record("an owner's decision cannot be overridden from a store")
        } catch let error as CaptureError {
            #expect(error.message.contains("owned by hq") && error.hint.contains("--keep"))
        }
        #expect(throws: CaptureError.self, "there is one loser, not two") {
            try database.resolveConflict(id: mobile.id, choice: .useLosing(loser: 2), wallMillis: Fixtures.wall)
        }
    }

    @Test("--use-losing on an update that beat a delete deletes the row, and the delete is sent")
    func useLosingDelete() throws {
        let (dms, database) = try Fixtures.installed()
        let base = RowVersion.inserted(table: "customers", key: RowKey([.text("r2")]), values: ["name": .text("b")], dot: Dot(node: other, counter: 1), hlc: t(0))
        _ = try database.apply([base], cursor: nil, wallMillis: Fixtures.wall)
        try dms.execute("UPDATE customers SET name = 'local' WHERE id = 'r2'")
        var deleted = base
        deleted.delete(dot: Dot(node: other, counter: 2), hlc: t(99_000))
        _ = try database.apply([deleted], cursor: nil, wallMillis: Fixtures.wall)
        let conflict = try #require(try database.conflicts().first)
        #expect(conflict.column == nil && conflict.reason == "update-wins-over-delete")
        try database.resolveConflict(id: conflict.id, choice: .useLosing(loser: nil), wallMillis: Fixtures.wall)
        #expect(try dms.count("SELECT count(*) FROM customers WHERE id = 'r2'") == 0)
        let sent = try Fixtures.stamp(database)
        #expect(sent.count == 1 && sent[0].isAlive(policy: Fixtures.schema.table(named: "customers")!.policy) == false)
    }

    @Test("resync queues rows written and deleted while capture was off, once, and restarts the pull")
    func resync() throws {
        let (dms, database) = try Fixtures.installed()
        try dms.execute("INSERT INTO customers (id, name) VALUES ('c1', 'a'), ('c2', 'b')")
        try dms.execute(#"INSERT INTO "order" (store, number, total) VALUES ('S', 1, 2.5)"#)
        #expect(try Fixtures.stamp(database).count == 3)
        _ = try database.apply([], cursor: "page-9", wallMillis: Fixtures.wall)
        #expect(try database.pullCursor() == "page-9")

        // A DMS upgrade drops the triggers, writes, and dealersync is set up again.
        for trigger in try dms.rows("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE '_dealersync_%'") {
            try dms.execute("DROP TRIGGER \"\(trigger["name"] as String)\"")
        }
        try dms.execute("INSERT INTO customers (id, name) VALUES ('c3', 'c')")
        try dms.execute("DELETE FROM customers WHERE id = 'c2'")
        try dms.execute(#"DELETE FROM "order""#)
        _ = try database.install(schema: Fixtures.schema)
        #expect(try Fixtures.stamp(database).isEmpty, "capture did not see those writes")

        var steps: [CaptureProgress] = []
        let report = try database.resync(chunkRows: 1) { steps.append($0) }
        #expect(report.unsyncedRows == 1 && report.vanishedRows == 2 && report.pullRestarted)
        #expect(steps.contains { $0.table == "customers" && $0.done == 2 && $0.total == 2 }, "progress counts the DMS rows")
        #expect(try database.pullCursor() == nil)
        let sent = try Fixtures.stamp(database)
        let policy = Fixtures.schema.table(named: "customers")!.policy
        let byKey = Dictionary(uniqueKeysWithValues: sent.map { ($0.key, $0) })
        #expect(sent.count == 3)
        #expect(byKey[RowKey([.text("c3")])]?.isAlive(policy: policy) == true)
        #expect(byKey[RowKey([.text("c2")])]?.isAlive(policy: policy) == false)
        #expect(byKey[RowKey([.text("S"), .integer(1)])]?.isAlive(policy: policy) == false)

        let again = try database.resync()
        #expect(again.unsyncedRows == 0 && again.vanishedRows == 0, "deleted rows stay deleted, synced rows are left alone")
        #expect(try Fixtures.stamp(database).isEmpty)
    }
}
