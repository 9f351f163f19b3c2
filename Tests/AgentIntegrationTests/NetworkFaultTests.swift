import Foundation
import HQServer
import Hummingbird
import Logging
import ServiceLifecycle
import SyncCapture
import SyncCore
import SyncDemo
import SyncTestSupport
import Testing

/// The real `dealersync agent run` process over bad links to an in-process HQ: a 64 kbit/s
/// link, 10% packet loss and a partition (in a network namespace of our own, veth to this
/// one), and a proxy that cuts uploads mid-body (loopback). Each run edits the store while
/// the link is bad, then checks that HQ ends with exactly the store's rows — nothing lost,
/// nothing doubled — and that the agent's log holds no token, name or mobile.
///
/// `DEALERSYNC_CHAOS_SCALE` (default 1) multiplies edits and the partition's length.
@Suite("Agents over bad networks", .serialized)
struct NetworkFaultTests {
    static let scale = ProcessInfo.processInfo.environment["DEALERSYNC_CHAOS_SCALE"].flatMap(Int.init) ?? 1
    /// Each namespace test uses its own index (addresses and interface names).
    static let namespaces = NetNamespace.available

    @Test("a 64 kbit/s link (tbf): the agent catches up, nothing lost or doubled", .enabled(if: namespaces, "needs root, iproute2 and iptables"))
    func slowLink() async throws {
        let lab = try NetNamespace(index: 1)
        try lab.limitRate(kbit: 64)
        try await Self.run("64 kbit/s", lab: lab, edits: 150 * Self.scale)
    }

    @Test("10% packet loss both ways (iptables statistic): the agent catches up, nothing lost or doubled", .enabled(if: namespaces, "needs root, iproute2 and iptables"))
    func packetLoss() async throws {
        let lab = try NetNamespace(index: 2)
        try lab.dropPackets(probability: 0.1)
        try await Self.run("10% loss", lab: lab, edits: 150 * Self.scale)
    }

    @Test("a partition while the store keeps working: changes queue, and reach HQ once after healing", .enabled(if: namespaces, "needs root, iproute2 and iptables"))
    func partition() async throws {
        let lab = try NetNamespace(index: 3)
        let seconds = 60 * Self.scale
        try await Self.run("partition \(seconds) s", lab: lab, edits: 150 * Self.scale) { network, edit in
            try lab.partition(true)
            let cut = Date()
            // The store goes on writing while cut off, for the whole partition.
            var index = 0
            while Date().timeIntervalSince(cut) < Double(seconds) {
                try edit(index)
                index += 1
                try await Task.sleep(for: .milliseconds(200))
            }
            let cutOff = try network.databases["DLR-A"]!.status()
            #expect(cutOff.lastError != nil && cutOff.pendingChanges + cutOff.outboxRows > 0, "the partition did not cut the agent off")
            try lab.partition(false)
        }
    }

    @Test("a proxy that cuts five uploads mid-body: retried until whole, nothing doubled")
    func cuttingProxy() async throws {
        try await Self.run("cutting proxy", lab: nil, edits: 150 * Self.scale)
    }

    /// Starts HQ (on the namespace's host address, or loopback behind a cutting proxy), the
    /// agent process (inside the namespace), edits the store while `during` runs, and waits
    /// until HQ holds exactly the store's rows.
    static func run(
        _ label: String, lab: NetNamespace?, edits: Int,
        during: (@Sendable (_ network: SyncNetwork, _ edit: (Int) throws -> Void) async throws -> Void)? = nil
    ) async throws {
        var built = try await SyncNetwork(dealers: ["DLR-A"])
        // HummingbirdTesting binds to localhost; here HQ must listen on the veth address.
        built.config.host = lab?.hostAddress ?? "127.0.0.1"
        built.config.port = try LoopbackPort.free(on: built.config.host)
        let network = built
        let binary = try #require(ProcessRunner.dealersyncBinary, "build first: swift build")
        let app = try await buildApplication(network.config)
        var quiet = Logger(label: "test.hq")
        quiet.logLevel = .critical
        let hq = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: quiet)
        let serving = Task { try await hq.run() }
        defer { serving.cancel() }
        do {
            let port = network.config.port
            let proxy = lab == nil ? try CuttingProxy(targetPort: port, cutFirst: 5) : nil
            defer { proxy?.stop() }
            let hqAddress = lab.map { "\($0.hostAddress):\(port)" } ?? "127.0.0.1:\(proxy!.port)"
            let config = try network.agentConfig("DLR-A", hqURL: "http://\(hqAddress)", extra: """
                capture:
                  batch_rows: 200
                sync:
                  poll_interval_millis: 1000
                  retry_base_millis: 200
                  retry_cap_millis: 3000

                """)
            let command = [binary.path, "agent", "run", "--config", config]
            let agent = ChildProcess(
                executable: lab == nil ? binary : URL(fileURLWithPath: "/usr/sbin/ip"),
                arguments: lab.map { $0.command(command) } ?? Array(command.dropFirst()), logPath: network.directory.file("agent.log"))
            try agent.start()
            defer { agent.kill9() }

            let store = network.stores["DLR-A"]!
            let customers = try store.rows("SELECT id FROM customers ORDER BY id").map { $0["id"] as String }
            var generator = DealershipGenerator(seed: 77, dealer: "DLR-A")
            // Updates spread over the customers, and every fifth edit a new customer.
            let edit: (Int) throws -> Void = { index in
                if index % 5 == 4 {
                    try store.dms.write { db in _ = try DealershipPopulator.populate(db, generator: &generator, customers: 1) }
                } else {
                    try store.execute("UPDATE customers SET remarks = ? WHERE id = ?", ["改 \(index)", customers[index % customers.count]])
                }
            }
            let started = Date()
            if let during { try await during(network, edit) }
            for index in 0..<edits {
                try edit(1_000_000 + index)
                if index % 10 == 0 { try await Task.sleep(for: .milliseconds(20)) }
            }
            let converged = try await Self.waitForConvergence(network, deadline: 240)
            let seconds = Date().timeIntervalSince(started)
            let rows = try network.databases["DLR-A"]!.allVersions().count
            let hqRows = try await network.store.count("rows")
            let proxyNote = proxy.map { ", proxy cut \($0.counts.cuts) of \($0.counts.connections) connections" } ?? ""
            print("network \(label): \(rows) rows at HQ \(String(format: "%.1f", seconds)) s after the edits began\(proxyNote)")
            #expect(converged, "\(label): store and HQ did not converge in 240 s; the agent said: \(agent.log().suffix(1_500))")
            #expect(hqRows == rows, "\(label): HQ holds \(hqRows) rows for \(rows) store rows")
            if let proxy { #expect(proxy.counts.cuts == 5 && proxy.counts.connections > 5, "the proxy cut \(proxy.counts.cuts) of \(proxy.counts.connections)") }

            #expect(await agent.stop(within: 10) == 0, "\(label): \(agent.log().suffix(1_500))")
            try Self.expectPrivateLog(agent.log(), store: store, token: network.tokens["DLR-A"]!)
        }
        await hq.triggerGracefulShutdown()
        _ = await serving.result
    }

    /// True once HQ's digest of the store's rows equals the store's and nothing waits to be sent.
    static func waitForConvergence(_ network: SyncNetwork, deadline seconds: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        let database = network.databases["DLR-A"]!
        while Date() < deadline {
            let status = try database.status()
            if status.pendingChanges == 0 && status.outboxBatches == 0 {
                let digests = try await network.digests("DLR-A")
                if digests.dealer == digests.hq { return true }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        return false
    }

    /// The agent's whole log, checked for the token and every customer's name and mobile.
    static func expectPrivateLog(_ log: String, store: TestDMS, token: String) throws {
        #expect(!log.isEmpty, "the agent logged nothing: nothing was checked")
        #expect(!log.contains(token), "the token is in the agent's log")
        for row in try store.rows("SELECT name, mobile FROM customers") {
            for value in [row["name"] as String?, row["mobile"] as String?].compactMap({ $0 }) where value.count >= 2 {
                #expect(!log.contains(value), "a customer value is in the agent's log")
            }
        }
    }
}
