import Foundation
import SyncTestSupport
import Testing

/// kill -9 of `dealersync agent run` at random moments while it stamps, pushes, pulls and
/// applies: every committed DMS change reaches HQ exactly once and every store converges.
@Suite("Reliability: agent killed", .serialized)
struct AgentKillTests {
    @Test("kill -9 the agent at random points during push and apply", .enabled(if: ProcessRunner.dealersyncBinary != nil))
    func agentKills() async throws {
        let kills = ChaosScale.count(30)
        let seed = ChaosScale.seed()
        var random = SplitMix(seed: seed)
        let fleet = try await ProcessFleet(dealers: ["DLR-A", "DLR-B"], seed: seed)
        defer { fleet.stopAll() }
        let started = Date()
        try await fleet.startHQ()
        try fleet.startAgents()
        let victim = fleet.dealers["DLR-A"]!
        let other = fleet.dealers["DLR-B"]!
        var pushAtKill = 0
        var applyAtKill = 0
        for _ in 0..<kills {
            // New work both ways: A pushes its own, and applies what B homes at A.
            try other.writer.burst(Int(random.next() % 30) + 5, others: ["DLR-A"])
            try victim.writer.burst(Int(random.next() % 50) + 10, others: ["DLR-B"])
            // The kill lands while A is still stamping, pushing or applying (or starting up).
            try await Task.sleep(for: .milliseconds(Int(random.next() % 400)))
            let status = try victim.database().status()
            if status.pendingChanges + status.outboxBatches > 0 { pushAtKill += 1 }
            if try await fleet.backlog("DLR-A") > 0 { applyAtKill += 1 }
            victim.agent.kill9()
            try victim.agent.start()
        }
        let writesDone = Date()
        let converged = try await waitUntil(seconds: 240, every: 250) { try await fleet.converged() }
        let recovery = Date().timeIntervalSince(writesDone)
        #expect(converged, "no convergence within 240 s after the last kill; agent log:\n\(victim.agent.log().suffix(3000))")
        let problems = try await fleet.exactlyOnceProblems()
        #expect(problems.isEmpty, "\(problems)")
        let pushed = try fleet.hqCount("SELECT count(*) FROM batches WHERE dealer = 'DLR-A'")
        let digest = try await fleet.digests("DLR-A")
        print("""
            agent-kill: seed \(seed), \(kills) kills of DLR-A (\(pushAtKill) with A's changes not yet acknowledged, \(applyAtKill) with rows routed to A not yet applied), \
            \(victim.writer.changes) + \(other.writer.changes) committed DMS changes, \(pushed) batches acknowledged from A, \
            \(digest.store.rows) rows at A, digest store = HQ \(digest.store == digest.hq), converged \(String(format: "%.1f", recovery))s after the last kill, \
            total \(elapsed(since: started)), problems \(problems.count)
            """)
    }
}
