import Foundation
import HQServer
import Logging
import ServiceLifecycle
import SyncAgent
import SyncCore
import SyncTestSupport

/// A fleet against one HQ, in two processes: this bench is the load (simulated dealers,
/// each with its own token, pushing gzip batches of generated customers through libcurl
/// and retrying 429s as the agent does), and HQ runs in a child process — this binary
/// again, with the hidden `--serve-hq` — so its resident memory is HQ's alone.
/// Push latency: from sending a batch to its acknowledgement, retries included.
enum FleetScenario {
    static func run(quick: Bool) async throws -> [Figure] {
        let dealers = quick ? 20 : 1_000
        let batchesPerDealer = quick ? 2 : 4
        let rowsPerBatch = quick ? 20 : 50
        let connections = quick ? 8 : 100
        let directory = TemporaryDirectory("bench-fleet")
        let storePath = directory.file("hq.sqlite")
        let ids = (0..<dealers).map { String(format: "DLR-F%04d", $0) }
        var tokens: [String: String] = [:]
        do {
            let store = try SQLiteSyncStore(path: storePath)
            for id in ids { tokens[id] = try await BenchHQ.addDealer(id, to: store) }
        }
        let bodies = try makeBatches(ids: ids, batches: batchesPerDealer, rows: rowsPerBatch)

        let port = try LoopbackPort.free()
        let baseURL = "http://127.0.0.1:\(port)"
        let hq = Process()
        hq.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        hq.arguments = ["--serve-hq", storePath, "--port", String(port)]
        hq.standardOutput = FileHandle.nullDevice
        hq.standardError = FileHandle.nullDevice
        try hq.run()
        defer { if hq.isRunning { hq.terminate() } }
        try await BenchHQ.waitUntilUp(baseURL)
        let probe = ProcessProbe(pid: hq.processIdentifier)
        let idleRSS = try probe.residentMB()

        let pool = try ConnectionPool(count: connections)
        let sampler = Task {
            var peak = 0.0
            while !Task.isCancelled {
                peak = max(peak, (try? probe.residentMB()) ?? 0)
                try? await Task.sleep(for: .milliseconds(100))
            }
            return peak
        }
        let started = now()
        let results = try await withThrowingTaskGroup(of: [(latency: Double, refused: Int)].self) { group in
            for id in ids {
                let token = tokens[id]!
                let mine = bodies[id]!
                group.addTask {
                    var results: [(Double, Int)] = []
                    for body in mine {
                        results.append(try await pool.push(body, dealer: id, token: token, baseURL: baseURL))
                    }
                    return results
                }
            }
            var all: [(latency: Double, refused: Int)] = []
            for try await results in group { all += results }
            return all
        }
        let seconds = now() - started
        sampler.cancel()
        let peakRSS = max(await sampler.value, try probe.residentMB())
        hq.terminate()
        hq.waitUntilExit()

        let total = dealers * batchesPerDealer * rowsPerBatch
        let rate = Double(total) / seconds
        let latencies = results.map { $0.latency * 1000 }
        let p99 = percentile(latencies, 0.99)
        let refused = results.reduce(0) { $0 + $1.refused }
        let shape = "\(dealers) dealers × \(batchesPerDealer) batches × \(rowsPerBatch) rows, \(connections) connections, \(refused) 429s retried"
        return [
            Figure(scenario: "fleet", metric: "changes/s at HQ (\(shape))", value: rate, unit: "rows/s", baseline: nil, goal: "≥ 20000/s", met: rate >= 20_000),
            Figure(scenario: "fleet", metric: "push latency p50", value: percentile(latencies, 0.5), unit: "ms", baseline: nil, goal: "", met: nil),
            Figure(scenario: "fleet", metric: "push latency p99 (send → ack, retries included)", value: p99, unit: "ms", baseline: nil, goal: "≤ 500 ms", met: p99 <= 500),
            Figure(scenario: "fleet", metric: "HQ process peak RSS (baseline: HQ idle before the load)", value: peakRSS, unit: "MB", baseline: idleRSS, goal: "≤ 512 MB", met: peakRSS <= 512),
        ]
    }

    /// Each dealer's batches, gzip-compressed: new customers from the generator.
    static func makeBatches(ids: [String], batches: Int, rows: Int) throws -> [String: [(body: [UInt8], sha256: String)]] {
        var result: [String: [(body: [UInt8], sha256: String)]] = [:]
        for (index, id) in ids.enumerated() {
            let node = try NodeID(id)
            var generator = DealershipGenerator(seed: UInt64(1_000 + index), dealer: id)
            var counter: UInt64 = 0
            result[id] = (0..<batches).map { batch in
                let versions = (0..<rows).map { _ -> RowVersion in
                    counter += 1
                    let customer = generator.customer()
                    let values: [String: SQLValue] = [
                        "name": .text(customer.name), "mobile": customer.mobile.map(SQLValue.text) ?? .null,
                        "address": customer.address.map(SQLValue.text) ?? .null, "customer_class": .text(customer.customerClass),
                        "home_dealer": .text(id),
                    ]
                    return RowVersion.inserted(
                        table: "customers", key: RowKey([.text(customer.id)]), values: values, dot: Dot(node: node, counter: counter),
                        hlc: HLCTimestamp(physicalMillis: 1_763_900_000_000 + counter, logical: 0))
                }
                let encoded = Batch(
                    dealer: node, schemaVersion: 1, firstSequence: UInt64(batch * rows + 1), lastSequence: UInt64((batch + 1) * rows),
                    rows: versions
                ).encoded()
                let body = Gzip.compress(encoded)
                return (body, BodyChecksum.sha256Hex(body))
            }
        }
        return result
    }

    /// HQ in this process until SIGTERM: the child side of the fleet scenario.
    static func serve(storePath: String, port: Int) async throws {
        let store = try SQLiteSyncStore(path: storePath)
        let schema = try SyncSchema(yaml: DealerSchema.syncSchemaYAML)
        let app = buildApplication(HQConfig(host: "127.0.0.1", port: port, storePath: storePath, schema: schema), store: store, logger: BenchHQ.quiet)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: BenchHQ.quiet))
        try await group.run()
    }
}

/// Keep-alive libcurl connections shared by the simulated dealers: a dealer waits for a
/// free one, then pushes as the agent does (429/503 → wait `Retry-After` with jitter).
actor ConnectionPool {
    private var free: [CurlTransport]
    private var waiting: [CheckedContinuation<CurlTransport, Never>] = []
    private let retry = RetryPolicy()

    init(count: Int) throws {
        free = try (0..<count).map { _ in try CurlTransport(settings: TransportSettings(connectTimeoutMillis: 5_000)) }
    }

    private func take() async -> CurlTransport {
        if let transport = free.popLast() { return transport }
        return await withCheckedContinuation { waiting.append($0) }
    }

    private func give(_ transport: CurlTransport) {
        if waiting.isEmpty { free.append(transport) } else { waiting.removeFirst().resume(returning: transport) }
    }

    /// Seconds from the first send to the acknowledgement, and how many times HQ said 429.
    nonisolated func push(_ batch: (body: [UInt8], sha256: String), dealer: String, token: String, baseURL: String) async throws -> (Double, Int) {
        let transport = await take()
        let started = now()
        var refused = 0
        var generator = SystemRandomNumberGenerator()
        defer { Task { await self.give(transport) } }
        while true {
            let response = try await transport.send(SyncAgent.HTTPRequest(
                method: "POST", url: "\(baseURL)/v1/dealers/\(dealer)/batches",
                headers: [
                    ("Authorization", "Bearer \(token)"), ("Content-Type", "application/vnd.dealersync.batch"),
                    ("Content-Encoding", "gzip"), (BodyChecksum.headerName, batch.sha256),
                ],
                body: batch.body))
            if response.status == 200 { return (now() - started, refused) }
            guard retry.isRetryable(status: response.status) else {
                throw BenchError("fleet: HQ answered \(response.status) to a push: \(String(decoding: response.body.prefix(300), as: UTF8.self))")
            }
            refused += 1
            let delay = retry.delayMillis(
                attempt: 0, retryAfterSeconds: response.header("retry-after").flatMap { Int($0) }, using: &generator)
            try await Task.sleep(for: .milliseconds(delay))
        }
    }
}
