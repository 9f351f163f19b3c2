import Foundation
import GRDB
import HQServer
import Hummingbird
import HummingbirdTesting
import SyncAgent
import SyncCapture
import SyncCore
import SyncTestSupport
import Testing

/// Agents and an in-process HQ over real loopback HTTP through libcurl.
@Suite("Agents and HQ end to end")
struct AgentIntegrationTests {
    @Test("two stores and HQ converge; a concurrent edit of one customer is decided the same everywhere")
    func convergence() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A", "DLR-B"])
        let app = try await buildApplication(network.config)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            _ = try await network.settle(port: port)
            // Every row each store created reached HQ.
            for dealer in ["DLR-A", "DLR-B"] {
                let digests = try await network.digests(dealer)
                #expect(digests.dealer == digests.hq, "\(dealer) differs from HQ")
            }
            // HQ's CRM moves a customer of A to B (the routing column), so B holds it too.
            let customer = try #require(try network.stores["DLR-A"]!.rows("SELECT id FROM customers LIMIT 1").first)["id"] as String
            let move = try await client.execute(
                uri: "/v1/hq/changes", method: .post,
                headers: [.authorization: "Bearer \(network.tokens["crm"]!)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"table":"customers","key":["\#(customer)"],"values":{"home_dealer":"DLR-B","customer_class":"VIP"}}"#))
            #expect(move.status == .ok)
            _ = try await network.settle(port: port)
            #expect(try network.stores["DLR-B"]!.count("SELECT count(*) FROM customers WHERE id = '\(customer)' AND customer_class = 'VIP'") == 1)

            // Both stores edit the same customer's mobile before syncing.
            try network.stores["DLR-A"]!.execute("UPDATE customers SET mobile = '13911110000' WHERE id = ?", [customer])
            try network.stores["DLR-B"]!.execute("UPDATE customers SET mobile = '13922220000', address = '新地址' WHERE id = ?", [customer])
            _ = try await network.settle(port: port)
            let mobiles = try ["DLR-A", "DLR-B"].map { try network.stores[$0]!.rows("SELECT mobile, address FROM customers WHERE id = '\(customer)'").first! }
            #expect(mobiles[0]["mobile"] as String == mobiles[1]["mobile"] as String, "both stores show the same winner")
            #expect(mobiles[0]["address"] as String == "新地址", "the column only B changed is B's on both")
            for dealer in ["DLR-A", "DLR-B"] {
                let digests = try await network.digests(dealer)
                #expect(digests.dealer == digests.hq, "\(dealer) differs from HQ after the conflict")
            }
        }
    }

    @Test("HQ down: edits queue in the DMS file; HQ up: the agent catches up, nothing lost or doubled")
    func offlineThenCatchUp() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"])
        // Nothing listens on the port: the cycle fails as unreachable, and keeps the work.
        do {
            _ = try await network.cycle("DLR-A", port: 9).run()
            Issue.record("a cycle without HQ succeeded")
        } catch let error as AgentError {
            #expect(error.code == .hqUnreachable && error.retryable)
        }
        try network.stores["DLR-A"]!.execute("UPDATE customers SET remarks = '离线修改'")
        let queued = try network.databases["DLR-A"]!.status()
        // Queued as captured changes: a store that never reached HQ stamps nothing before it
        // has measured its clock offset.
        #expect(queued.outboxRows + queued.pendingChanges > 0)
        let app = try await buildApplication(network.config)
        try await app.test(.live) { client in
            _ = try await network.settle(port: try #require(client.port))
        }
        let digests = try await network.digests("DLR-A")
        #expect(digests.dealer == digests.hq)
        let status = try network.databases["DLR-A"]!.status()
        #expect(status.outboxBatches == 0 && status.pendingChanges == 0 && status.lastError == nil)
        // Exactly one HQ row per store row: the offline edits did not duplicate anything.
        #expect(try await network.store.count("rows") == (try network.databases["DLR-A"]!.allVersions().count))
    }

    @Test("a crash after HQ applied a batch but before the agent deleted it: the replay is answered, nothing doubles")
    func replayAfterCrashBeforeAck() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"])
        let database = network.databases["DLR-A"]!
        try database.stampPendingChanges(wallMillis: Int64(Date().timeIntervalSince1970 * 1000))
        let entry = try #require(try database.outbox().first)
        let app = try await buildApplication(network.config)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // The push reaches HQ, but the agent "dies" before acknowledge(): deliver it by hand.
            let transport = try CurlTransport(settings: TransportSettings())
            let response = try await transport.send(SyncAgent.HTTPRequest(
                method: "POST", url: "http://127.0.0.1:\(port)/v1/dealers/DLR-A/batches",
                headers: [("Authorization", "Bearer \(network.tokens["DLR-A"]!)"), ("Content-Encoding", "gzip"), (BodyChecksum.headerName, entry.sha256)],
                body: entry.body))
            #expect(response.status == 200)
            let rowsAfterFirst = try await network.store.count("feed")
            // The restarted agent sends the same batch again: same answer, no new feed entries.
            _ = try await network.settle(port: port)
            #expect(try await network.store.count("feed") == rowsAfterFirst)
            #expect(try database.outbox().isEmpty)
        }
    }

    @Test("429 and 500 are retried later; a refused token stops with a hint")
    func retryAndRefusal() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"])
        for status in [429, 500] {
            let busy = MockTransport { _ in SyncAgent.HTTPResponse(status: status, headers: ["retry-after": "7"], body: Array(#"{"error":"busy","hint":"later"}"#.utf8)) }
            do {
                _ = try await network.cycle("DLR-A", port: nil, transport: busy).run()
                Issue.record("status \(status) was taken as success")
            } catch let error as AgentError {
                #expect(error.retryable && error.code == .hqBusy)
                #expect(status != 429 || error.retryAfterSeconds == 7)
            }
            let queued = try network.databases["DLR-A"]!.status()
            #expect(queued.outboxRows + queued.pendingChanges > 0, "nothing is dropped on \(status)")
        }
        let refused = MockTransport { _ in SyncAgent.HTTPResponse(status: 403, body: Array(#"{"error":"revoked","hint":"ask HQ"}"#.utf8)) }
        do {
            _ = try await network.cycle("DLR-A", port: nil, transport: refused).run()
        } catch let error as AgentError {
            #expect(!error.retryable && error.code == .unauthorized && error.hint.contains("hq add-dealer DLR-A"))
            #expect(!error.message.contains(network.tokens["DLR-A"]!), "the token is never in an error")
        }
    }

    @Test("a second agent on the same database is refused, naming the holder")
    func secondAgentRefused() throws {
        let directory = TemporaryDirectory("lock")
        let path = directory.file("dms.sqlite")
        let first = try DatabaseLock(databasePath: path)
        do {
            _ = try DatabaseLock(databasePath: path)
            Issue.record("two agents hold one database")
        } catch let error as AgentError {
            #expect(error.code == .anotherAgent && error.message.contains("pid \(getpid())"))
        }
        withExtendedLifetime(first) {}
    }
}
