import Foundation
import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import SyncCore
import Testing

/// A small load run against a live server on 127.0.0.1, off by default:
/// `DEALERSYNC_HQ_LOAD=1 swift test --skip-build --filter LoadTests`. Bounded: 3 dealers ×
/// 40 batches × 200 rows. Prints batches/s, rows/s and the p50/p99 push latency.
@Suite("load")
struct LoadTests {
    static let enabled = ProcessInfo.processInfo.environment["DEALERSYNC_HQ_LOAD"] == "1"

    @Test("concurrent pushes from three dealers", .enabled(if: LoadTests.enabled))
    func load() async throws {
        let hq = try await HQFixture(limits: HQLimits(maxConcurrentIngests: 8))
        defer { hq.cleanUp() }
        let dealers = ["DLR-1", "DLR-2", "DLR-3"]
        let batches = 40
        let rowsPerBatch = 200
        var requests: [String: [PushRequest]] = [:]
        for id in dealers {
            var writer = FakeDealer(id)
            requests[id] = (0..<batches).map { batch in
                let rows = (0..<rowsPerBatch).map { row in
                    writer.insert(
                        "customers", key: [.text("\(id)-\(batch)-\(row)")],
                        ["name": .text("Customer \(row)"), "phone": .text("+33 6 00 00 \(row)"), "visits": .integer(Int64(row)), "score": .real(Double(row) / 3)])
                }
                return PushRequest(
                    batch: Batch(dealer: writer.node, schemaVersion: 3, firstSequence: UInt64(batch * rowsPerBatch + 1), lastSequence: UInt64((batch + 1) * rowsPerBatch), rows: rows),
                    token: hq.tokens[id]!)
            }
        }
        let pushes = requests
        let latencies = Latencies()
        let app = try await buildApplication(hq.config)
        let started = ContinuousClock.now
        try await app.test(.live) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in dealers {
                    group.addTask {
                        for request in pushes[id]! {
                            let begin = ContinuousClock.now
                            let response = try await client.push(id, request)
                            latencies.append(ContinuousClock.now - begin)
                            #expect(response.status == .ok)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let sorted = latencies.all.sorted()
        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
        let total = dealers.count * batches
        print(
            "load: \(total) batches, \(total * rowsPerBatch) rows in \(String(format: "%.2f", seconds)) s:",
            "\(String(format: "%.1f", Double(total) / seconds)) batches/s, \(String(format: "%.0f", Double(total * rowsPerBatch) / seconds)) rows/s,",
            "p50 \(String(format: "%.1f", ms(sorted[sorted.count / 2]))) ms, p99 \(String(format: "%.1f", ms(sorted[min(sorted.count - 1, sorted.count * 99 / 100)]))) ms")
        #expect(try await hq.store.count("feed") == total * rowsPerBatch)
    }
}

final class Latencies: Sendable {
    private let values = Mutex<[Duration]>([])
    func append(_ value: Duration) { values.withLock { $0.append(value) } }
    var all: [Duration] { values.withLock { $0 } }
}
