import Foundation
import SyncCapture
import SyncCore
import SyncTestSupport

/// `dealersync status` wall time, the real binary as an operator runs it, on a store whose
/// change log holds every one of its rows (set up and never pushed). Baseline: the same
/// command on a small store with nothing pending, same run (process start, config, open).
enum StatusScenario {
    static func run(quick: Bool) throws -> [Figure] {
        let binary = try BenchBinaries.dealersync()
        let schema = try SyncSchema(yaml: DealerSchema.syncSchemaYAML)
        let (big, rows) = try BenchStores.populated(rows: quick ? 2_000 : 1_000_000, label: "bench-status")
        _ = try big.open().install(schema: schema)
        let (small, _) = try BenchStores.populated(rows: 50, label: "bench-status-small")
        let smallDatabase = try small.open()
        _ = try smallDatabase.install(schema: schema)
        while try smallDatabase.stampPendingChanges(wallMillis: 1_763_900_000_000) > 0 {}

        func wallMillis(_ dms: TestDMS) throws -> Double {
            let config = dms.directory.file("agent.yaml")
            try "node_id: DLR-1\ndatabase: \(dms.path)\n".write(toFile: config, atomically: true, encoding: .utf8)
            var times: [Double] = []
            for _ in 0..<5 {
                var result: ProcessResult?
                let seconds = try time { result = try ProcessRunner.runBlocking(binary, ["status", "--config", config]) }
                guard let result, [0, 1].contains(result.status) else {
                    throw BenchError("dealersync status exited \(result?.status ?? -1): \(result?.stderr.prefix(300) ?? "")")
                }
                times.append(seconds * 1000)
            }
            return median(times)
        }
        let pending = try big.open().pendingChangeCount()
        guard pending == rows else { throw BenchError("status: \(pending) pending, expected \(rows)") }
        let value = try wallMillis(big)
        let baseline = try wallMillis(small)
        return [
            Figure(
                scenario: "status", metric: "dealersync status wall time, \(rows) changes pending (\(BenchBinaries.flavour(binary)) binary; baseline: nothing pending)",
                value: value, unit: "ms", baseline: baseline, goal: "≤ 200 ms", met: value <= 200),
        ]
    }
}
