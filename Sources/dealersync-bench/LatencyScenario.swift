import Foundation
import GRDB
import HQServer
import Logging
import ServiceLifecycle
import Synchronization
import SyncAgent
import SyncCapture
import SyncCore
import SyncTestSupport

/// Commit → HQ latency: the DMS commits one new customer every 10 ms (100 commits/s) while
/// the real `AgentService` runs (it wakes on `PRAGMA data_version`, as in production). A
/// watcher reads HQ's feed every 5 ms and notes when each customer has been committed
/// there. Latency = HQ commit seen − DMS commit done (the 5 ms poll is included).
enum LatencyScenario {
    static func run(quick: Bool) async throws -> [Figure] {
        let seconds = quick ? 2.0 : 30.0
        let commitsPerSecond = 100.0
        let dealer = "DLR-LAT"
        let hq = try await BenchHQ(dealers: [dealer])
        let (dms, _) = try BenchStores.populated(rows: quick ? 500 : 5_000, dealer: dealer, label: "bench-latency")
        let database = try dms.open(node: dealer)
        _ = try database.install(schema: hq.schema)
        let (cycle, settings) = try hq.cycle(database)
        _ = try await BenchStores.pushAll(cycle)

        let agent = AgentService(cycle: cycle, settings: settings, logger: BenchHQ.quiet)
        let group = ServiceGroup(services: [agent], logger: BenchHQ.quiet)
        let agentTask = Task { try await group.run() }

        let count = Int(seconds * commitsPerSecond)
        let committed = Mutex<[String: Double]>([:])
        // Set once the writer is done: stragglers get 30 s more.
        let giveUpAt = Mutex(Double.infinity)
        let watcher = Task { () -> [String: Double] in
            var cursor = try await hq.store.latestSequence()
            var seen: [String: Double] = [:]
            while seen.count < count && now() < giveUpAt.withLock({ $0 }) {
                for entry in try await hq.store.feed(after: cursor, limit: PageLimit(rows: 1_000, bytes: HQLimits().maxPageBytes)) {
                    cursor = entry.sequence
                    if entry.version.table == "customers", case .text(let id)? = entry.version.key.values.first, id.hasPrefix("LAT-") {
                        seen[id] = seen[id] ?? now()
                    }
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            return seen
        }

        // The front desk's own connection, waiting on the agent's short locks as a DMS does.
        var writerConfig = Configuration()
        writerConfig.busyMode = .timeout(5)
        let writer = try DatabaseQueue(path: dms.path, configuration: writerConfig)
        var generator = DealershipGenerator(seed: 11, dealer: dealer)
        let start = ContinuousClock.now
        for index in 0..<count {
            try await Task.sleep(until: start + .milliseconds(index * 10))
            let customer = generator.customer()
            let id = "LAT-\(index)"
            try await writer.write { db in
                try db.execute(
                    sql: "INSERT INTO customers (id, name, mobile, address, customer_class, home_dealer) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [id, customer.name, customer.mobile, customer.address, customer.customerClass, dealer])
            }
            let at = now()
            committed.withLock { $0[id] = at }
        }
        let writerDone = now()
        giveUpAt.withLock { $0 = writerDone + 30 }
        let seen = try await watcher.value
        await group.triggerGracefulShutdown()
        _ = try? await agentTask.value
        await hq.stop()

        let commits = committed.withLock { $0 }
        let latencies = commits.compactMap { id, at in seen[id].map { max(0, $0 - at) * 1000 } }
        if ProcessInfo.processInfo.environment["BENCH_TRACE"] != nil {
            for index in stride(from: 0, to: count, by: 5) {
                let id = "LAT-\(index)"
                progress("\(id) at \(String(format: "%.3f", commits[id]! - commits["LAT-0"]!)) latency \(String(format: "%.0f", ((seen[id] ?? .nan) - commits[id]!) * 1000)) ms")
            }
        }
        guard latencies.count == count else {
            throw BenchError("latency: only \(latencies.count) of \(count) commits reached HQ")
        }
        let label = "\(Int(commitsPerSecond)) commits/s for \(Int(seconds)) s, \(count) commits"
        let p99 = percentile(latencies, 0.99)
        return [
            Figure(scenario: "latency", metric: "commit → HQ commit p50 (\(label))", value: percentile(latencies, 0.50), unit: "ms", baseline: nil, goal: "", met: nil),
            Figure(scenario: "latency", metric: "commit → HQ commit p99 (\(label))", value: p99, unit: "ms", baseline: nil, goal: "≤ 2000 ms", met: p99 <= 2000),
            Figure(scenario: "latency", metric: "commit → HQ commit max", value: latencies.max() ?? .nan, unit: "ms", baseline: nil, goal: "", met: nil),
        ]
    }
}
