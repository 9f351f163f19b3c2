import Foundation
import Testing
@testable import SyncCapture
import SyncCore
import SyncTestSupport

@Suite("Store status from local files")
struct StatusTests {
    @Test("not set up is broken; pending and unsent work is counted; an old batch or an error degrades; a dropped table breaks")
    func healthRules() throws {
        let dms = try TestDMS(schemaSQL: Fixtures.dmsSQL)
        #expect(try dms.open().status().health == .broken)

        let (installed, database) = try Fixtures.installed()
        var status = try database.status()
        #expect(status.health == .healthy && status.pendingChanges == 0 && status.node == "DLR-1")
        try installed.execute("INSERT INTO customers (id, name) VALUES ('c1', 'a')")
        try installed.execute("INSERT INTO customers (id, name) VALUES ('c2', 'b')")
        #expect(try database.status().pendingChanges == 2)
        try database.stampPendingChanges(wallMillis: Int64(Date().timeIntervalSince1970 * 1000))
        status = try database.status()
        #expect(status.pendingChanges == 0 && status.outboxBatches == 1 && status.outboxRows == 2)
        #expect(status.health == .healthy)
        let later = Date().addingTimeInterval(2 * 3600)
        #expect(try database.status(now: later).health == .degraded, "a batch unsent for two hours")

        try database.recordAgentError("HQ answered 503", hint: "HQ is draining; the agent retries")
        status = try database.status()
        #expect(status.health == .degraded && status.lastError?.message == "HQ answered 503")
        try database.recordAgentError(nil)
        #expect(try database.status().health == .healthy)

        try installed.execute("DROP TABLE attachments")
        status = try database.status()
        #expect(status.health == .broken && status.tableProblems["attachments"] != nil)
        #expect(StoreStatus.Health.broken.exitCode == 2 && StoreStatus.Health.degraded.exitCode == 1)
    }
}
