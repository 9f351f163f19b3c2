import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HQServer
import SyncAgent
import SyncCore
import SyncTestSupport

/// The real `dealersync hq serve` process with default limits, fed the worst-shaped pushes a
/// valid dealer token can send (docs/SECURITY.md), `max_concurrent_ingests` × 2 at once:
///
/// - writes: 500 rows × 1,999 NULL columns, just under `max_writes_per_batch` (1,000,000
///   writes) in a body of a few hundred KB;
/// - bytes: 16 rows with a 4 MB blob each, about `max_decompressed_bytes` after gunzip
///   (64 MiB) in a compressed body of a few hundred KB.
///
/// Reports HQ's peak resident memory (VmHWM) against its idle memory, and how long a
/// stalled upload keeps its connection (the idle timeout).
enum HostileScenario {
    static func run(quick: Bool) async throws -> [Figure] {
        let binary = try BenchBinaries.dealersync()
        let directory = TemporaryDirectory("bench-hostile")
        let dealers = (0..<8).map { "DLR-H\($0)" }
        let storePath = directory.file("hq.sqlite")
        var tokens: [String: String] = [:]
        do {
            let store = try SQLiteSyncStore(path: storePath)
            for id in dealers { tokens[id] = try await BenchHQ.addDealer(id, to: store) }
        }
        try DealerSchema.syncSchemaYAML.write(toFile: directory.file("schema.yaml"), atomically: true, encoding: .utf8)
        let port = try LoopbackPort.free()
        let idleTimeout = quick ? 2 : HQLimits().idleTimeoutSeconds
        try """
            http:
              port: \(port)
            store:
              path: \(storePath)
            schema_file: schema.yaml
            limits:
              idle_timeout_seconds: \(idleTimeout)
            """.write(toFile: directory.file("hq.yaml"), atomically: true, encoding: .utf8)
        let hq = Process()
        hq.executableURL = binary
        hq.arguments = ["hq", "serve", "--config", directory.file("hq.yaml")]
        hq.standardOutput = FileHandle.nullDevice
        hq.standardError = FileHandle.nullDevice
        try hq.run()
        defer { if hq.isRunning { hq.terminate() } }
        let baseURL = "http://127.0.0.1:\(port)"
        try await BenchHQ.waitUntilUp(baseURL)
        let probe = ProcessProbe(pid: hq.processIdentifier)
        let idle = try probe.residentMB()

        let rounds = quick ? 1 : 3
        let wide = quick ? (rows: 20, columns: 200) : (rows: 500, columns: 1_999)
        let blobs = quick ? (rows: 2, bytes: 1 << 20) : (rows: 16, bytes: 4_000_000)
        var sequence: UInt64 = 0
        var statuses: [Int: Int] = [:]
        for _ in 0..<rounds {
            for shape in 0..<2 {
                sequence += 1
                let seq = sequence
                let answers = try await withThrowingTaskGroup(of: Int.self) { group in
                    for (index, dealer) in dealers.enumerated() {
                        let body = shape == 0
                            ? Self.widePush(dealer, index: index, sequence: seq, rows: wide.rows, columns: wide.columns)
                            : Self.blobPush(dealer, index: index, sequence: seq, rows: blobs.rows, bytes: blobs.bytes)
                        let token = tokens[dealer]!
                        group.addTask {
                            let transport = try CurlTransport(settings: TransportSettings(connectTimeoutMillis: 5_000))
                            let response = try await transport.send(SyncAgent.HTTPRequest(
                                method: "POST", url: "\(baseURL)/v1/dealers/\(dealer)/batches",
                                headers: [("Authorization", "Bearer \(token)"), ("Content-Encoding", "gzip"), (BodyChecksum.headerName, BodyChecksum.sha256Hex(body))],
                                body: body))
                            return response.status
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                for status in answers { statuses[status, default: 0] += 1 }
            }
        }
        guard hq.isRunning else { throw BenchError("hostile: HQ exited with \(hq.terminationStatus) under the pushes") }
        let peak = try Self.peakMB(hq.processIdentifier)
        let served = statuses.filter { $0.key == 200 }.values.reduce(0, +)
        FileHandle.standardError.write(Data("hostile: answers \(statuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", "))\n".utf8))

        // A stalled upload: headers and one byte of a body, then silence.
        let stalledSeconds = try Self.stalledUpload(port: port, dealer: dealers[0], token: tokens[dealers[0]]!)
        return [
            Figure(
                scenario: "hostile", metric: "HQ peak RSS, \(dealers.count) worst-shaped pushes at once (\(BenchBinaries.flavour(binary)))",
                value: peak, unit: "MB", baseline: idle, goal: "≤ 1,024 MB (half the unit's MemoryMax)", met: peak <= 1_024),
            Figure(scenario: "hostile", metric: "pushes answered 200 (others 429, retried by agents)", value: Double(served), unit: "pushes", baseline: Double(statuses.values.reduce(0, +)), goal: "", met: nil),
            Figure(
                scenario: "hostile", metric: "a stalled upload's connection closed after (idle_timeout_seconds \(idleTimeout))",
                value: stalledSeconds, unit: "s", baseline: nil, goal: "≤ idle timeout + 1 s", met: stalledSeconds <= Double(idleTimeout) + 1),
        ]
    }

    /// 1,999 NULL columns per row: the most writes per compressed byte a push can carry.
    static func widePush(_ dealer: String, index: Int, sequence: UInt64, rows: Int, columns: Int) -> [UInt8] {
        let node = try! NodeID(dealer)
        let values = Dictionary(uniqueKeysWithValues: (0..<columns).map { ("c\($0)", SQLValue.null) })
        let versions = (0..<rows).map { row in
            RowVersion.inserted(
                table: "customers", key: [.text("\(dealer)-\(sequence)-\(row)")].rowKey, values: values,
                dot: Dot(node: node, counter: sequence * 100_000 + UInt64(row) + 1), hlc: HLCTimestamp(physicalMillis: UInt64(Date().timeIntervalSince1970 * 1000), logical: 0))
        }
        return Gzip.compress(Batch(dealer: node, schemaVersion: 1, firstSequence: sequence, lastSequence: sequence, rows: versions).encoded())
    }

    /// Rows of one large blob each: the most decoded bytes a push can carry.
    static func blobPush(_ dealer: String, index: Int, sequence: UInt64, rows: Int, bytes: Int) -> [UInt8] {
        let node = try! NodeID(dealer)
        let versions = (0..<rows).map { row in
            RowVersion.inserted(
                table: "customers", key: [.text("\(dealer)-\(sequence)-blob-\(row)")].rowKey,
                values: ["photo": .blob([UInt8](repeating: UInt8(row), count: bytes))],
                dot: Dot(node: node, counter: sequence * 100_000 + UInt64(row) + 1), hlc: HLCTimestamp(physicalMillis: UInt64(Date().timeIntervalSince1970 * 1000), logical: 0))
        }
        return Gzip.compress(Batch(dealer: node, schemaVersion: 1, firstSequence: sequence, lastSequence: sequence, rows: versions).encoded())
    }

    /// VmHWM (peak resident set) from /proc/PID/status, in MB.
    static func peakMB(_ pid: Int32) throws -> Double {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { throw BenchError("no VmHWM in /proc/\(pid)/status") }
        return kilobytes / 1024
    }

    /// Seconds from a push's first body byte until HQ closes the connection.
    static func stalledUpload(port: Int, dealer: String, token: String) throws -> Double {
        let request = "POST /v1/dealers/\(dealer)/batches HTTP/1.1\r\nHost: hq\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Encoding: gzip\r\n\(BodyChecksum.headerName): \(String(repeating: "0", count: 64))\r\nContent-Length: 100000\r\n\r\nx"
        let socket = try LoopbackSocket(port: port, send: Array(request.utf8))
        defer { socket.close() }
        let start = Date()
        _ = socket.readAllBlocking(timeoutSeconds: 120)
        return Date().timeIntervalSince(start)
    }
}

extension Array where Element == SQLValue {
    fileprivate var rowKey: RowKey { RowKey(self) }
}
