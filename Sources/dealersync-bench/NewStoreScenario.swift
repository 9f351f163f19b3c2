import Foundation
import SyncCapture
import SyncTestSupport

/// A new store joining a running fleet (docs/ROLLOUT.md): HQ already holds the customers and
/// leads assigned to it when it is added, set up and started. Timed: its first cycles, from
/// the first pull to caught up (pages of 1,000 over libcurl, applied as any pull). Baseline:
/// raw SQLite insert of the same rows, same run.
enum NewStoreScenario {
    static func run(quick: Bool) async throws -> [Figure] {
        let (source, newcomer) = ("DLR-SRC", "DLR-NEW")
        let customers = quick ? 500 : 50_000
        let hq = try await BenchHQ(dealers: [source])
        let origin = try ApplyScenario.seed(customers: customers, belongingTo: newcomer)
        let originDatabase = try origin.open(node: source)
        _ = try originDatabase.install(schema: hq.schema)
        _ = try await BenchStores.pushAll(try hq.cycle(originDatabase).0)
        let baseline = try BenchStores.rawInsertRate(try BenchStores.dump(origin))

        try await hq.join(newcomer)
        let store = try TestDMS(schemaSQL: DealerSchema.dmsSQL, label: "bench-new-store")
        let database = try store.open(node: newcomer)
        _ = try database.install(schema: hq.schema)
        let (cycle, _) = try hq.cycle(database)
        var cycles = 0
        let seconds = try await timeAsync {
            while true {
                let report = try await cycle.run()
                cycles += 1
                if report.pulledRows == 0 && !report.moreWaiting { break }
            }
        }
        await hq.stop()
        let rows = customers * 2
        let arrived = try store.count("SELECT count(*) FROM customers") + store.count("SELECT count(*) FROM leads")
        guard arrived == rows else { throw BenchError("new-store: \(arrived) of \(rows) rows arrived") }
        return [
            Figure(
                scenario: "new-store", metric: "a new store catches up: \(rows) rows routed to it, first pull to caught up (\(cycles) cycles)",
                value: seconds, unit: "s", baseline: nil, goal: "", met: nil),
            Figure(
                scenario: "new-store", metric: "same, rows/s (baseline raw SQLite insert)",
                value: Double(rows) / seconds, unit: "rows/s", baseline: baseline, goal: "", met: nil),
        ]
    }
}
