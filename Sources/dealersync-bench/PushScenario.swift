import Foundation
import SyncCapture
import SyncTestSupport

/// Push throughput: a store whose every row is a pending change (set up with `install`,
/// not timed) pushes them all to the real HQ app on loopback through libcurl. Timed: the
/// agent's cycles from stamping the change log to HQ's acknowledgement of the last batch
/// (HQ acknowledges after its commit, so acknowledged = durable at HQ). Baseline: the same
/// rows inserted into a fresh SQLite database with prepared statements, same run.
enum PushScenario {
    static func run(quick: Bool) async throws -> [Figure] {
        let dealer = "DLR-PUSH"
        let (dms, rows) = try BenchStores.populated(rows: quick ? 2_000 : 200_000, dealer: dealer, label: "bench-push")
        let database = try dms.open(node: dealer)
        let hq = try await BenchHQ(dealers: [dealer])
        _ = try database.install(schema: hq.schema)
        let baseline = try BenchStores.rawInsertRate(try BenchStores.dump(dms))
        let (cycle, _) = try hq.cycle(database)
        var moved = (pushed: 0, pulled: 0)
        let seconds = try await timeAsync { moved = try await BenchStores.pushAll(cycle) }
        await hq.stop()
        guard moved.pushed == rows else { throw BenchError("push: \(moved.pushed) of \(rows) rows pushed") }
        let rate = Double(rows) / seconds
        return [
            Figure(
                scenario: "push", metric: "dealer → HQ rows/s (\(rows) rows, libcurl, loopback; baseline raw SQLite insert)",
                value: rate, unit: "rows/s", baseline: baseline, goal: "≥ 50000 rows/s", met: rate >= 50_000),
        ]
    }
}

func timeAsync(_ body: () async throws -> Void) async rethrows -> Double {
    let start = now()
    try await body()
    return now() - start
}
