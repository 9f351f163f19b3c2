/// A new store joining a running fleet (docs/ROLLOUT.md): HQ already holds the customers and
/// leads assigned to it when it is added, set up and started. Timed: its first cycles, from
/// the first pull to caught up (pages of 1,000 over libcurl, applied as any pull). Baseline:
/// raw SQLite insert of the same rows, same run.
enum NewStoreScenario {
    static func run(quick: Bool) async throws -> [Figure] {
        let run = try await ApplyScenario.routedRows(customers: quick ? 500 : 50_000, targetJoinsLate: true)
        return [
            Figure(
                scenario: "new-store", metric: "a new store catches up: \(run.rows) rows routed to it, first pull to caught up (\(run.cycles) cycles)",
                value: run.seconds, unit: "s", baseline: nil, goal: "", met: nil),
            Figure(
                scenario: "new-store", metric: "same, rows/s (baseline raw SQLite insert)",
                value: Double(run.rows) / run.seconds, unit: "rows/s", baseline: run.baseline, goal: "", met: nil),
        ]
    }
}
