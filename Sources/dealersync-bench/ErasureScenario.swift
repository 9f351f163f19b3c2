import Foundation
import HQServer
import SyncCore
import SyncTestSupport

/// Erasure (docs/PRIVACY.md): a store pushes its customers and leads to an HQ with SQL
/// tables, then HQ erases one customer. Timed: the erasure at HQ (the tombstone's write, the
/// scan of the feed for the row's history on a reader, the deletes, the WAL truncated); HQ's rewrite of its files in the next retention pass (`VACUUM` of the
/// store and of the SQL tables: ingest waits meanwhile); the store's cycle that applies the
/// tombstone; and the store's scrub of its DMS file (`VACUUM`) before its next pull.
enum ErasureScenario {
    static func run(quick: Bool) async throws -> [Figure] {
        let customers = quick ? 500 : 50_000
        let dealer = "DLR-SRC"
        let hq = try await BenchHQ(dealers: [dealer], tables: true)
        let store = try ApplyScenario.seed(customers: customers, belongingTo: dealer)
        let database = try store.open(node: dealer)
        _ = try database.install(schema: hq.schema)
        let (cycle, _) = try hq.cycle(database)
        _ = try await BenchStores.pushAll(cycle)
        _ = try await cycle.run()
        let key = try store.rows("SELECT id FROM customers ORDER BY rowid LIMIT 1")[0]["id"] as String
        guard let spec = hq.schema.table(named: "customers") else { throw BenchError("erasure: no customers table") }

        // HQ links the new customers behind ingest; measured once that is done.
        while let identity = try await hq.store.identityStatus(), identity.pendingRows > 0 { try await Task.sleep(for: .milliseconds(200)) }
        // What a push waits for meanwhile: small writes through HQ's one writer, every 5 ms,
        // during the erasure and, as the baseline, for as long again without it.
        let quietWait = try await Self.longestWrite(of: hq.store, during: { try await Task.sleep(for: .seconds(2)) })
        var eraseSeconds = 0.0
        let eraseWait = try await Self.longestWrite(of: hq.store) {
            eraseSeconds = try await timeAsync {
                _ = try await hq.store.erase(ErasureRequest(spec: spec, key: RowKey([.text(key)]), requestedBy: "bench", reason: nil, atMillis: Date.nowMillis))
            }
        }
        let hqBytes = Self.size(hq.directory.file("hq.sqlite")) + Self.size(hq.directory.file("hq.tables.sqlite"))
        let rewriteSeconds = try await timeAsync { _ = try await hq.store.scrubErasures(nowMillis: Date.nowMillis) }
        let applySeconds = try await timeAsync { _ = try await cycle.run() }
        let storeBytes = Self.size(store.path)
        let scrubSeconds = try time { try database.scrubErasedRows() }
        await hq.stop()
        guard try store.count("SELECT count(*) FROM customers WHERE id = '\(key)'") == 0 else {
            throw BenchError("erasure: the store still holds the erased customer")
        }
        let megabytes = { (bytes: Int) in String(format: "%.0f MB", Double(bytes) / 1e6) }
        return [
            Figure(scenario: "erasure", metric: "erase one customer at HQ (\(customers * 2) rows held; the feed scanned on a reader)", value: eraseSeconds * 1000, unit: "ms", baseline: nil, goal: "", met: nil),
            Figure(
                scenario: "erasure", metric: "meanwhile, the longest wait of a small HQ write (baseline: without an erasure)", value: eraseWait * 1000, unit: "ms",
                baseline: quietWait * 1000, goal: "", met: nil),
            Figure(scenario: "erasure", metric: "HQ rewrites its files after erasures (\(megabytes(hqBytes)); ingest waits)", value: rewriteSeconds, unit: "s", baseline: nil, goal: "", met: nil),
            Figure(scenario: "erasure", metric: "the store's cycle that applies the erasure", value: applySeconds * 1000, unit: "ms", baseline: nil, goal: "", met: nil),
            Figure(scenario: "erasure", metric: "the store scrubs its DMS file (\(megabytes(storeBytes)); the DMS waits)", value: scrubSeconds, unit: "s", baseline: nil, goal: "", met: nil),
        ]
    }

    /// The longest a small write (an access record) took while `body` ran, one every 5 ms.
    static func longestWrite(of store: SQLiteSyncStore, during body: () async throws -> Void) async throws -> Double {
        let probe = Task {
            var longest = 0.0
            while !Task.isCancelled {
                // A write cut short by the cancellation at the end is not a measurement.
                guard let seconds = try? await timeAsync({
                    try await store.recordAccess(AccessRecord(atMillis: 0, who: "bench-probe", kind: .feed, tables: [], rows: 0, detail: nil))
                }) else { break }
                longest = max(longest, seconds)
                try? await Task.sleep(for: .milliseconds(5))
            }
            return longest
        }
        try await body()
        probe.cancel()
        return await probe.value
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }
}
