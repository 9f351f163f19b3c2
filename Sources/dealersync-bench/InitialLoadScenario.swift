import Foundation
import SyncCapture
import SyncTestSupport

/// A store joining with its history: `install` (triggers, then the snapshot of every row
/// into the change log, in short transactions) and the first push of every row to the real
/// HQ app over libcurl, acknowledged = committed at HQ. Baseline: raw SQLite insert of the
/// same rows, same run.
enum InitialLoadScenario {
    static func run(quick: Bool) async throws -> [Figure] {
        let dealer = "DLR-JOIN"
        let (dms, rows) = try BenchStores.populated(rows: quick ? 2_000 : 1_000_000, dealer: dealer, label: "bench-initial")
        let baselineRate = try BenchStores.rawInsertRate(try BenchStores.dump(dms))
        let database = try dms.open(node: dealer)
        let hq = try await BenchHQ(dealers: [dealer])
        let (cycle, _) = try hq.cycle(database)
        var pushed = 0
        let seconds = try await timeAsync {
            _ = try database.install(schema: hq.schema)
            pushed = try await BenchStores.pushAll(cycle).pushed
        }
        await hq.stop()
        guard pushed == rows else { throw BenchError("initial-load: \(pushed) of \(rows) rows pushed") }
        return [
            Figure(
                scenario: "initial-load", metric: "install + snapshot + first push of \(rows) rows (baseline: raw SQLite insert of them)",
                value: seconds, unit: "s", baseline: Double(rows) / baselineRate, goal: "≤ 60 s", met: seconds <= 60),
        ]
    }
}
