import Foundation
import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import SyncCore
import Testing

@Suite("graceful drain")
struct DrainTests {
    @Test("on shutdown new requests get 503 with Retry-After while a push in flight finishes")
    func drain() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let blocking = BlockingStore(hq.store)
        let drain = HQDrain()
        var writer = FakeDealer("DLR-1")
        let push = PushRequest(
            batch: Batch(dealer: writer.node, schemaVersion: 3, firstSequence: 1, lastSequence: 1, rows: [writer.insert("customers", key: [.text("C-1")], [:])]),
            token: hq.tokens["DLR-1"]!)
        let app = buildApplication(hq.config, store: blocking, drain: drain)
        try await app.test(.router) { client in
            let group = ServiceGroup(configuration: .init(services: [drain], logger: Logger(label: "test")))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    let held = try await client.push("DLR-1", push)
                    #expect(held.status == .ok, "the push in flight completes")
                }
                await blocking.waitUntilIngesting()
                // Remembered if the group has not started yet, so no race with run().
                await group.triggerGracefulShutdown()
                tasks.addTask { try await group.run() }
                await drain.waitUntilDraining()

                let refused = try await client.execute(uri: "/healthz", method: .get)
                #expect(refused.status == .serviceUnavailable)
                #expect(refused.headers[.retryAfter] == "5")
                #expect(try errorBody(refused).error.contains("shutting down"))

                blocking.release()
                try await tasks.waitForAll()  // the drain returns once nothing is in flight
            }
        }
        #expect(try await hq.store.count("batches") == 1)
    }
}
