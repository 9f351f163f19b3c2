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
        let rows = quick ? 2_000 : 200_000
        let plain = try await measure(rows: rows, tables: false, quality: false)
        // The same push with HQ keeping its SQL tables (customers declared, the others learned
        // from the agent's shape report): what the tables cost ingest, same run; then with the
        // dealer schema's quality rules evaluated too: what quality costs on top.
        let withTables = try await measure(rows: rows, tables: true, quality: false)
        let withQuality = try await measure(rows: rows, tables: true, quality: true)
        let seconds = { (run: (rows: Int, rate: Double, rawInsertRate: Double)) in Double(run.rows) / run.rate }
        return [
            Figure(
                scenario: "push", metric: "dealer → HQ rows/s (\(plain.rows) rows, libcurl, loopback; baseline raw SQLite insert)",
                value: plain.rate, unit: "rows/s", baseline: plain.rawInsertRate, goal: "≥ 50000 rows/s", met: plain.rate >= 50_000),
            Figure(
                scenario: "push", metric: "push time with HQ's SQL tables kept, all five tables (baseline: the same push without, same run)",
                value: seconds(withTables), unit: "s", baseline: seconds(plain), goal: "≤ 1.3x", met: seconds(withTables) <= 1.3 * seconds(plain)),
            Figure(
                scenario: "push", metric: "quality rules' share of the push with tables (docs/QUALITY.md; baseline: tables without rules, same run)",
                value: seconds(withQuality), unit: "s", baseline: seconds(withTables), goal: "≤ 1.1x", met: seconds(withQuality) <= 1.1 * seconds(withTables)),
        ]
    }

    static func measure(rows wanted: Int, tables: Bool, quality: Bool) async throws -> (rows: Int, rate: Double, rawInsertRate: Double) {
        let dealer = "DLR-PUSH"
        let (dms, rows) = try BenchStores.populated(rows: wanted, dealer: dealer, label: "bench-push")
        let database = try dms.open(node: dealer)
        let hq = try await BenchHQ(dealers: [dealer], tables: tables, quality: quality)
        _ = try database.install(schema: hq.schema)
        let baseline = try BenchStores.rawInsertRate(try BenchStores.dump(dms))
        let (cycle, _) = try hq.cycle(database)
        var moved = (pushed: 0, pulled: 0)
        let seconds = try await timeAsync { moved = try await BenchStores.pushAll(cycle) }
        await hq.stop()
        guard moved.pushed == rows else { throw BenchError("push: \(moved.pushed) of \(rows) rows pushed") }
        return (rows, Double(rows) / seconds, baseline)
    }
}

func timeAsync(_ body: () async throws -> Void) async rethrows -> Double {
    let start = now()
    try await body()
    return now() - start
}
