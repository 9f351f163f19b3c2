import DealershipData
import SyncAgent

/// How fast a fleet is back after an HQ outage, and how hard it comes back: 200 agents
/// follow the agent's own `RetryPolicy` (its `delayMillis`, full jitter) through outages of
/// 10 minutes and an hour, in simulated time (an hour of real waiting would measure nothing
/// more: the agents' only timing is this policy). Each agent noticed the outage at its next
/// poll; it is back at its first retry after HQ is.
///
/// Figures: p95 and max of (first retry after HQ returned − HQ's return), and the peak
/// number of agents arriving in one second after it, for the current default cap and for the
/// 300 s cap of the first version (the chaos run's 172–181 s catch-up).
enum CatchUpScenario {
    struct Outcome {
        var p95Seconds: Double
        var maxSeconds: Double
        /// Most agents arriving at HQ in one second after it returned.
        var peakPerSecond: Int
    }

    static func simulate(policy: RetryPolicy, agents: Int, outageMillis: Int64, pollMillis: Int64, seed: UInt64) -> Outcome {
        var generator = SeededGenerator(seed: seed)
        var waits: [Int64] = []
        var arrivals: [Int64: Int] = [:]
        for _ in 0..<agents {
            // The first failed cycle: the agent's next poll after HQ went away.
            var time = Int64.random(in: 0...pollMillis, using: &generator)
            var attempt = 0
            while time < outageMillis {
                time += policy.delayMillis(attempt: attempt, retryAfterSeconds: nil, using: &generator)
                attempt += 1
            }
            waits.append(time - outageMillis)
            arrivals[(time - outageMillis) / 1000, default: 0] += 1
        }
        waits.sort()
        let p95 = waits[min(waits.count - 1, Int((Double(waits.count) * 0.95).rounded(.up)) - 1)]
        return Outcome(p95Seconds: Double(p95) / 1000, maxSeconds: Double(waits.last ?? 0) / 1000, peakPerSecond: arrivals.values.max() ?? 0)
    }

    static func run(quick: Bool) -> [Figure] {
        let agents = quick ? 50 : 200
        var figures: [Figure] = []
        for outageMinutes in [10, 60] {
            let outage = Int64(outageMinutes) * 60_000
            let now = simulate(policy: RetryPolicy(), agents: agents, outageMillis: outage, pollMillis: 5_000, seed: 2026)
            let before = simulate(policy: RetryPolicy(capMillis: 300_000), agents: agents, outageMillis: outage, pollMillis: 5_000, seed: 2026)
            figures += [
                Figure(
                    scenario: "catch-up", metric: "\(agents) agents back after a \(outageMinutes) min HQ outage, p95 (cap \(RetryPolicy().capMillis / 1000) s; baseline: the 300 s cap)",
                    value: now.p95Seconds, unit: "s", baseline: before.p95Seconds, goal: "≤ 60 s", met: now.p95Seconds <= 60),
                Figure(
                    scenario: "catch-up", metric: "same, the last agent back", value: now.maxSeconds, unit: "s", baseline: before.maxSeconds, goal: "", met: nil),
                Figure(
                    scenario: "catch-up", metric: "same, most agents arriving in one second (a herd would be all \(agents))",
                    value: Double(now.peakPerSecond), unit: "agents", baseline: Double(max(before.peakPerSecond, 1)),
                    goal: "≤ 10% of the fleet", met: now.peakPerSecond * 10 <= agents),
            ]
        }
        return figures
    }
}
