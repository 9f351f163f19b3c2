import Foundation
import SyncTestSupport
import Testing

/// kill -9 of `dealersync hq serve` while agents push: an acknowledged batch is never lost,
/// an unacknowledged one is pushed again and applied once, and everything converges.
@Suite("Reliability: HQ killed", .serialized)
struct HQKillTests {
    @Test("kill -9 HQ during ingest, restart it, agents catch up exactly once", .enabled(if: ProcessRunner.dealersyncBinary != nil))
    func hqKills() async throws {
        let kills = ChaosScale.count(10)
        let seed = ChaosScale.seed()
        var random = SplitMix(seed: seed)
        let fleet = try await ProcessFleet(dealers: ["DLR-A", "DLR-B"], seed: seed)
        defer { fleet.stopAll() }
        let started = Date()
        try fleet.startAgents()
        var duringIngest = 0
        var restartMillis: [Double] = []
        for _ in 0..<kills {
            try fleet.dealers["DLR-A"]!.writer.burst(Int(random.next() % 60) + 20, others: ["DLR-B"])
            try fleet.dealers["DLR-B"]!.writer.burst(Int(random.next() % 60) + 20, others: ["DLR-A"])
            let before = try fleet.hqCount("SELECT count(*) FROM batches")
            let start = Date()
            try await fleet.startHQ()
            restartMillis.append(Date().timeIntervalSince(start) * 1000)
            // Kill once ingest is under way (a batch was acknowledged), at a random moment after.
            _ = try await waitUntil(seconds: 30, every: 20) { try fleet.hqCount("SELECT count(*) FROM batches") > before }
            try await Task.sleep(for: .milliseconds(Int(random.next() % 300)))
            var waiting = 0
            for id in fleet.ids { waiting += try fleet.dealers[id]!.database().status().outboxBatches }
            if waiting > 0 { duringIngest += 1 }
            fleet.hq.kill9()
        }
        try await fleet.startHQ()
        let writesDone = Date()
        let converged = try await waitUntil(seconds: 240, every: 250) { try await fleet.converged() }
        let recovery = Date().timeIntervalSince(writesDone)
        #expect(converged, "no convergence within 240 s after the last HQ restart; HQ log:\n\(fleet.hq.log().suffix(3000))")
        let problems = try await fleet.exactlyOnceProblems()
        #expect(problems.isEmpty, "\(problems)")
        let batches = try fleet.hqCount("SELECT count(*) FROM batches")
        let changes = fleet.ids.map { fleet.dealers[$0]!.writer.changes }.reduce(0, +)
        print("""
            hq-kill: seed \(seed), \(kills) kills of HQ (\(duringIngest) with batches still waiting at the stores), \
            \(changes) committed DMS changes, \(batches) batches acknowledged, HQ back listening in \
            \(Int(restartMillis.reduce(0, +) / Double(max(restartMillis.count, 1)))) ms on average, \
            converged \(String(format: "%.1f", recovery))s after the last restart, total \(elapsed(since: started)), problems \(problems.count)
            """)
    }
}
