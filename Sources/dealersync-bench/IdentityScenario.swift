import DealershipData
import Foundation
import GRDB
import HQServer
import Synchronization
import SyncCore
import SyncTestSupport

/// Customer linking on generated data with ground truth (issue 18, docs/IDENTITY.md):
/// `CrossStoreCustomers` people at several stores, typed differently, pushed into an
/// in-process `SQLiteSyncStore` with HQ's SQL tables and the demo schema (quality rules on),
/// a batch of 500 rows per store at a time, while a linker task links behind ingest as
/// `hq serve`'s `IdentityService` does.
///
/// Figures: pairwise precision and recall against the ground truth (and the share of the
/// pairs the rules can reach at all), link throughput (records linked per second of the
/// linker's own transactions), ingest rate with linking running, the largest lag seen
/// (rows merged but not linked, sampled every second) and how long linking needed after
/// ingest stopped.
enum IdentityScenario {
    static func run(quick: Bool) async throws -> [Figure] {
        let storeCount = quick ? 20 : 400
        let total = quick ? 3_000 : 1_000_000
        let dealers = (1...storeCount).map { "DLR-\(String(1000 + $0).dropFirst())" }
        let people = CrossStoreCustomers(seed: 20_261_203, dealers: dealers)
        let directory = TemporaryDirectory("bench-identity")
        let schema = try SyncSchema(yaml: DealerSchema.syncSchemaYAML)
        let store = try SQLiteSyncStore(path: directory.file("hq.sqlite"), tables: (directory.file("hq.tables.sqlite"), schema))
        progress("\(total) customer records from \(storeCount) stores (CrossStoreCustomers default rates), linked behind ingest")

        let ingestDone = Mutex(false)
        let clock = ContinuousClock()
        // The linker: as IdentityService, a chunk at a time while there is work.
        let linker = Task { () -> (linked: Int, busy: Duration, finished: ContinuousClock.Instant) in
            var linked = 0
            var busy = Duration.zero
            while true {
                let start = clock.now
                let rows = try await store.linkIdentities(chunk: 2_000)
                if rows > 0 {
                    busy += clock.now - start
                    linked += rows
                    continue
                }
                if ingestDone.withLock({ $0 }), try await store.linkIdentities(chunk: 2_000) == 0 { return (linked, busy, clock.now) }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let maxLag = Mutex(0)
        let sampler = Task {
            while !Task.isCancelled {
                if let status = try? await store.identityStatus() { maxLag.withLock { $0 = max($0, status.pendingRows) } }
                try? await Task.sleep(for: .seconds(1))
            }
        }

        var truth: [(key: Data, person: Int)] = []
        truth.reserveCapacity(total)
        var pending: [CrossStoreCustomers.Record] = []
        var reachable = 0
        var versions = CrossStoreVersions(atMillis: Int64(Date().timeIntervalSince1970 * 1000))
        var sequences: [NodeID: UInt64] = [:]
        let ingestStart = clock.now
        var person = 0
        func flush(_ records: [CrossStoreCustomers.Record]) async throws {
            for (dealer, rows) in try versions.versions(of: records) {
                let first = (sequences[dealer] ?? 0) + 1
                sequences[dealer] = first + UInt64(rows.count) - 1
                let batch = IngestBatch(
                    dealer: dealer, firstSequence: first, lastSequence: first + UInt64(rows.count) - 1, sha256: "identity-\(dealer)-\(first)",
                    compressedBytes: 0, versions: rows, schema: schema, limits: HQLimits(), receivedAtMillis: Int64(Date().timeIntervalSince1970 * 1000),
                    clockSkewMillis: nil)
                guard case .applied(_, let receipt) = try await store.ingest(batch), receipt.deadLetters == 0 else {
                    throw BenchError("identity: \(dealer)'s batch was not applied cleanly")
                }
            }
        }
        while truth.count < total {
            let records = people.records(ofPerson: person).prefix(total - truth.count)
            person += 1
            reachable += LinkAccuracy.reachablePairs(Array(records))
            for record in records { truth.append((Data(RowKey([.text(record.customer.id)]).bytes), record.person)) }
            pending += records
            // About 500 rows per store per batch (agents push up to 5,000): each batch is one
            // fsync at HQ, so smaller ones would measure the disk, not linking.
            if pending.count >= 500 * storeCount || truth.count == total {
                try await flush(pending)
                pending.removeAll(keepingCapacity: true)
            }
            if truth.count % 100_000 < records.count && truth.count >= 100_000 { progress("\(truth.count) records pushed") }
        }
        let ingestEnd = clock.now
        ingestDone.withLock { $0 = true }
        let (linked, busy, finished) = try await linker.value
        sampler.cancel()

        let assigned = try await store.identityAssignments()
        let accuracy = LinkAccuracy(truth: truth.map(\.person), assigned: truth.map { assigned[$0.key] ?? "unlinked" })
        let ingestSeconds = (ingestEnd - ingestStart).seconds
        progress("\(accuracy); the rules can reach \(reachable) of \(accuracy.truePairs) true pairs")
        progress("ingest \(Int(Double(total) / ingestSeconds)) rows/s with linking; linking \(Int(Double(linked) / busy.seconds)) rows/s of its own transactions")
        return [
            Figure(scenario: "identity", metric: "link precision", value: accuracy.precision * 100, unit: "%", baseline: nil, goal: "≥ 99.5%",
                   met: accuracy.precision >= 0.995),
            Figure(scenario: "identity", metric: "link recall (all true pairs)", value: accuracy.recall * 100, unit: "%", baseline: nil, goal: "≥ 95%",
                   met: accuracy.recall >= 0.95),
            Figure(scenario: "identity", metric: "true pairs sharing a valid mobile or ID (recall ceiling)", value: Double(reachable) / Double(max(1, accuracy.truePairs)) * 100,
                   unit: "%", baseline: nil, goal: "", met: nil),
            Figure(scenario: "identity", metric: "link throughput", value: Double(linked) / busy.seconds, unit: "rows/s", baseline: nil, goal: "", met: nil),
            Figure(scenario: "identity", metric: "ingest with linking", value: Double(total) / ingestSeconds, unit: "rows/s", baseline: nil, goal: "", met: nil),
            Figure(scenario: "identity", metric: "largest lag seen", value: Double(maxLag.withLock { $0 }), unit: "rows", baseline: nil, goal: "", met: nil),
            Figure(scenario: "identity", metric: "catch-up after ingest", value: (finished - ingestEnd).seconds, unit: "s", baseline: nil, goal: "", met: nil),
        ]
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
