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

/// The pull cursor and the `dealersync agent run` daemon, against an in-process HQ.
@Suite("Agent pull cursor and daemon")
struct AgentDaemonTests {
    /// HQ's CRM moves `count` of DLR-B's customers to DLR-A, so A must pull them.
    static func moveCustomers(_ count: Int, in network: SyncNetwork, client: some TestClientProtocol) async throws -> [String] {
        let ids = try network.stores["DLR-B"]!.rows("SELECT id FROM customers ORDER BY id LIMIT \(count)").map { $0["id"] as String }
        for id in ids {
            let move = try await client.execute(
                uri: "/v1/hq/changes", method: .post,
                headers: [.authorization: "Bearer \(network.tokens["crm"]!)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"table":"customers","key":["\#(id)"],"values":{"home_dealer":"DLR-A"}}"#))
            #expect(move.status == .ok)
        }
        return ids
    }

    @Test("pull pages land once each: a row the DMS refuses waits aside while the cursor moves on, and lands on a later cycle")
    func pullCursorExactlyOnce() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A", "DLR-B"])
        let app = try await buildApplication(network.config)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            _ = try await network.settle(port: port)
            let moved = try await Self.moveCustomers(12, in: network, client: client)
            let storeA = network.stores["DLR-A"]!
            let inMoved = "id IN (\(moved.map { "'\($0)'" }.joined(separator: ",")))"
            // The DMS refuses the 8th moved customer for now (a rule of its own).
            try storeA.execute("CREATE TRIGGER dms_hold BEFORE INSERT ON customers WHEN NEW.id = '\(moved[7])' BEGIN SELECT RAISE(ABORT, 'held'); END")
            let first = try await network.cycle("DLR-A", port: port, pullPageRows: 5).run()
            #expect(first.pulledRows == 12 && first.appliedRows == 11 && first.heldRows == 1, "\(first)")
            #expect(try storeA.count("SELECT count(*) FROM customers WHERE \(inMoved)") == 11)
            let status = try network.databases["DLR-A"]!.status()
            #expect(status.health == .degraded && status.heldRows == 1)

            let stillHeld = try await network.cycle("DLR-A", port: port, pullPageRows: 5).run()
            #expect(stillHeld.pulledRows == 0 && stillHeld.heldRows == 1, "the cursor moved past all 12; only the held row is retried")
            try storeA.execute("DROP TRIGGER dms_hold")
            let healed = try await network.cycle("DLR-A", port: port, pullPageRows: 5).run()
            #expect(healed.pulledRows == 0 && healed.appliedRows == 1 && healed.heldRows == 0)
            #expect(try storeA.count("SELECT count(*) FROM customers WHERE \(inMoved)") == 12)
            let again = try await network.cycle("DLR-A", port: port, pullPageRows: 5).run()
            #expect(again.pulledRows == 0 && again.appliedRows == 0, "the cursor is at HQ's head")
            #expect(again.pushedRows == 0, "applied rows are not captured and echoed back to HQ")
            #expect(try network.databases["DLR-A"]!.conflicts().isEmpty, "re-applying is not a conflict")
            #expect(try network.databases["DLR-A"]!.status().health == .healthy)
            let digests = try await network.digests("DLR-A")
            #expect(digests.dealer == digests.hq)
        }
    }

    @Test("`dealersync agent run`: syncs at start, pushes a DMS commit without waiting for the poll, stops cleanly on SIGTERM")
    func daemon() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"])
        let binary = try #require(ProcessRunner.dealersyncBinary, "build first: swift build")
        let app = try await buildApplication(network.config)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // A ten-minute poll: only the data_version wake-up can make a commit arrive sooner.
            let config = try network.agentConfig("DLR-A", hqURL: "http://127.0.0.1:\(port)", extra: "sync:\n  poll_interval_millis: 600000\n")
            let agent = ChildProcess(executable: binary, arguments: ["agent", "run", "--config", config], logPath: network.directory.file("agent.log"))
            try agent.start()
            defer { agent.kill9() }

            // The token reaches the agent through a file: never its argv or environment.
            // Until the child has exec'd, /proc shows the test runner's argv (or nothing), so wait for the agent's own.
            let proc = "/proc/\(agent.pid ?? 0)"
            try await Self.waitUntil("the agent's exec") { Self.procFile("\(proc)/cmdline").contains("agent run --config") }
            for file in ["cmdline", "environ"] {
                let text = Self.procFile("\(proc)/\(file)")
                #expect(!text.isEmpty && !text.contains(network.tokens["DLR-A"]!), "/proc/pid/\(file)")
            }
            let database = network.databases["DLR-A"]!
            let rows = try database.allVersions().count
            try await Self.waitUntil("the first sync") { try await network.store.count("rows") == rows }

            let customers = try network.stores["DLR-A"]!.rows("SELECT id FROM customers ORDER BY id LIMIT 10").map { $0["id"] as String }
            var latencies: [Double] = []
            for (index, id) in customers.enumerated() {
                let remark = "备注 \(index)"
                let committed = Date()
                try network.stores["DLR-A"]!.execute("UPDATE customers SET remarks = ? WHERE id = ?", [remark, id])
                try await Self.waitUntil("commit \(index) at HQ") {
                    let version = try await network.store.rowVersion(
                        table: "customers", key: RowKey([.text(id)]), dealer: try NodeID("DLR-A"), schema: network.schema)
                    return version?.values(policy: network.schema.table(named: "customers")!.policy)["remarks"] == .text(remark)
                }
                latencies.append(Date().timeIntervalSince(committed) * 1000)
            }
            latencies.sort()
            print("agent run: commit → HQ over \(latencies.count) commits: p50 \(Int(latencies[latencies.count / 2])) ms, max \(Int(latencies.last!)) ms (debug build, poll 10 min)")

            let stopped = Date()
            let status = await agent.stop(within: 10)
            print("agent run: SIGTERM → exit in \(Int(Date().timeIntervalSince(stopped) * 1000)) ms")
            #expect(status == 0, "a graceful stop within 10 s exits 0: \(agent.log())")
            #expect(!agent.log().contains(network.tokens["DLR-A"]!) && !agent.log().contains("备注"), "no token, no customer value in the log")
        }
    }

    /// A /proc file: they report size 0, so Foundation's readers return nothing; read(2) them.
    static func procFile(_ path: String) -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            bytes += buffer.prefix(count)
        }
        return String(decoding: bytes.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    /// Polls `condition` every 20 ms; fails the test after 90 s (the agent polls every 10 min here).
    static func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
        guard try await SyncTestSupport.waitUntil(seconds: 90, every: 20, condition) else {
            Issue.record("\(what) did not happen within 90 s")
            throw CancellationError()
        }
    }
}
