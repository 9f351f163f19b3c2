import Foundation
import GRDB
import HQServer
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// A real agent tells HQ how its store is on every pull (issue 21, `StoreHealthReport`).
@Suite("Store health at HQ")
struct StoreHealthTests {
    @Test("after a sync HQ knows each store's agent release, its empty backlog, held rows and free disk; a failed cycle's code arrives with the next pull")
    func reported() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A", "DLR-B"])
        try await network.withSettledHQ { port in
            let dealers = try await network.store.status(schema: network.schema)
            for dealer in dealers {
                let health = try #require(dealer.health, "\(dealer.id) reported no health")
                #expect(health.agentVersion == DealersyncRelease.version)
                #expect(health.pendingChanges == 0 && health.outboxRows == 0 && health.heldRows == 0)
                #expect((health.freeDiskMB ?? 0) > 0 && health.lastError == nil)
            }
            // A cycle that failed (HQ unreachable) is reported by code with the next pull.
            let cycle = try network.cycle("DLR-A", port: port)
            cycle.recordOutcome(failureCode: "hqUnreachable")
            try network.stores["DLR-A"]!.execute("UPDATE customers SET remarks = 'changed' WHERE rowid = 1")
            _ = try await cycle.run()
            let after = try await network.store.status(schema: network.schema).first { $0.id == "DLR-A" }
            #expect(after?.health?.lastError == "hqUnreachable")
        }
    }
}
