import Foundation
import SyncCapture
import SyncTestSupport

/// The real `dealersync agent run` process, set up and in sync with an HQ (in this
/// process), left alone with no DMS changes: its resident memory and CPU use from /proc.
enum IdleScenario {
    static func run(quick: Bool) async throws -> [Figure] {
        let seconds = quick ? 3.0 : 60.0
        let dealer = "DLR-IDLE"
        let binary = try BenchBinaries.dealersync()
        let hq = try await BenchHQ(dealers: [dealer])
        let (dms, _) = try BenchStores.populated(rows: 2_000, dealer: dealer, label: "bench-idle")
        let database = try dms.open(node: dealer)
        _ = try database.install(schema: hq.schema)
        _ = try await BenchStores.pushAll(try hq.cycle(database).0)
        let config = dms.directory.file("agent.yaml")
        try """
            node_id: \(dealer)
            database: \(dms.path)
            hq:
              url: \(hq.baseURL)
              token: \(hq.tokens[dealer]!)
            """.write(toFile: config, atomically: true, encoding: .utf8)

        let agent = Process()
        agent.executableURL = binary
        agent.arguments = ["agent", "run", "--config", config]
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = FileHandle.nullDevice
        try agent.run()
        defer { if agent.isRunning { agent.terminate() } }
        let probe = ProcessProbe(pid: agent.processIdentifier)
        // Let it start and run its first (empty) cycle.
        try await Task.sleep(for: .seconds(quick ? 1 : 3))
        guard agent.isRunning else { throw BenchError("idle: the agent exited with \(agent.terminationStatus)") }
        let cpuBefore = try probe.cpuSeconds(), start = now()
        var peak = try probe.residentMB()
        while now() - start < seconds {
            try await Task.sleep(for: .milliseconds(500))
            peak = max(peak, try probe.residentMB())
        }
        let cpu = (try probe.cpuSeconds() - cpuBefore) / (now() - start) * 100
        agent.terminate()
        agent.waitUntilExit()
        await hq.stop()
        let label = "\(Int(seconds)) s idle, \(BenchBinaries.flavour(binary)) binary"
        return [
            Figure(scenario: "idle", metric: "agent peak RSS (\(label))", value: peak, unit: "MB", baseline: nil, goal: "≤ 30 MB", met: peak <= 30),
            Figure(scenario: "idle", metric: "agent CPU (\(label))", value: cpu, unit: "% of a core", baseline: nil, goal: "", met: nil),
        ]
    }
}
