import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// Hostile and broken requests against a live HQ on loopback: each gets a 4xx, the store's
/// digest does not move, and HQ goes on serving a good push afterwards.
@Suite("hostile input to HQ")
struct HostileInputTests {
    /// One request of the corpus: where it goes, with which token, and its body.
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var method: HTTPRequest.Method = .post
        var uri: String = "/v1/hq/changes"
        var token: String? = "hq-crm"
        var headers: HTTPFields = [.contentType: "application/json"]
        var body: [UInt8] = []
        var description: String { name }
    }

    static let deepNesting = Array(("{\"table\":\"customers\",\"key\":[\"C-9\"],\"values\":{\"name\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}}").utf8)

    static let corpus: [Case] = [
        Case(name: "JSON: not JSON at all", body: Array("hello".utf8)),
        Case(name: "JSON: empty body", body: []),
        Case(name: "JSON: truncated", body: Array(#"{"table":"customers","key":["C-9"],"values":{"name":"#.utf8)),
        Case(name: "JSON: type confusion, table is a number", body: Array(#"{"table":1,"key":["C-9"]}"#.utf8)),
        Case(name: "JSON: type confusion, key is a string", body: Array(#"{"table":"customers","key":"C-9"}"#.utf8)),
        Case(name: "JSON: type confusion, values is an array", body: Array(#"{"table":"customers","key":["C-9"],"values":[1,2]}"#.utf8)),
        Case(name: "JSON: a value typed as something else", body: Array(#"{"table":"customers","key":["C-9"],"values":{"visits":{"type":"integer","value":"x"}}}"#.utf8)),
        Case(name: "JSON: Int64 overflow", body: Array(#"{"table":"customers","key":["C-9"],"values":{"visits":92233720368547758070}}"#.utf8)),
        Case(name: "JSON: Int64 overflow, typed", body: Array(#"{"table":"customers","key":["C-9"],"values":{"visits":{"type":"integer","value":"-92233720368547758090"}}}"#.utf8)),
        Case(name: "JSON: nesting 100,000 deep", body: deepNesting),
        Case(name: "JSON: invalid UTF-8", body: Array(#"{"table":"customers","key":["C-"#.utf8) + [0xC3, 0x28] + Array(#""]}"#.utf8)),
        Case(name: "JSON: empty key", body: Array(#"{"table":"customers","key":[]}"#.utf8)),
        Case(name: "JSON: unknown table", body: Array(#"{"table":"sqlite_master","key":["x"]}"#.utf8)),
        Case(name: "JSON: up table belongs to dealers", body: Array(#"{"table":"visits","key":["x"]}"#.utf8)),
        Case(name: "JSON: routing column set to a number", body: Array(#"{"table":"leads","key":["L-1"],"values":{"assigned_dealer":7}}"#.utf8)),
        Case(name: "JSON: a dealer's token cannot write as HQ", token: "DLR-1", body: Array(#"{"table":"customers","key":["C-9"]}"#.utf8)),
        Case(name: "JSON: a reader's token cannot write", token: "crm", body: Array(#"{"table":"customers","key":["C-9"]}"#.utf8)),
        Case(name: "JSON: no token", token: nil, body: Array(#"{"table":"customers","key":["C-9"]}"#.utf8)),
        Case(name: "JSON: a token that is not one", token: "not-a-token", body: Array(#"{"table":"customers","key":["C-9"]}"#.utf8)),
        Case(name: "pull: a cursor HQ never issued", method: .get, uri: "/v1/dealers/DLR-1/changes?after=c1.99999999999999999999999", token: "DLR-1"),
        Case(name: "pull: a cursor of another kind", method: .get, uri: "/v1/dealers/DLR-1/changes?after=%00%FF", token: "DLR-1"),
        Case(name: "pull: limit past Int64", method: .get, uri: "/v1/dealers/DLR-1/changes?limit=99999999999999999999", token: "DLR-1"),
        Case(name: "pull: negative wait", method: .get, uri: "/v1/dealers/DLR-1/changes?wait=-1", token: "DLR-1"),
        Case(name: "pull: another dealer's changes", method: .get, uri: "/v1/dealers/DLR-2/changes", token: "DLR-1"),
        Case(name: "feed: a dealer's token", method: .get, uri: "/v1/feed", token: "DLR-1"),
        Case(name: "push: a GET on the push route", method: .get, uri: "/v1/dealers/DLR-1/batches", token: "DLR-1"),
        Case(name: "push: a dealer id with a path in it", uri: "/v1/dealers/..%2F..%2Fetc/batches", token: "DLR-1"),
    ]

    @Test("the corpus: every request gets a 4xx with an error body, the store does not change, HQ keeps serving")
    func corpusRun() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.live) { client in
            let digest = try await hq.store.contentDigest()
            for item in Self.corpus {
                var headers = item.headers
                if let token = item.token { headers[.authorization] = "Bearer \(hq.tokens[token] ?? token)" }
                let response = try await client.execute(uri: item.uri, method: item.method, headers: headers, body: ByteBuffer(bytes: item.body))
                #expect((400..<500).contains(response.status.code), "\(item): \(response.status)")
                #expect((try? errorBody(response)) != nil, "\(item): no {error, hint} body")
                #expect(try await hq.store.contentDigest() == digest, "\(item) changed the store")
            }
            try await Self.expectStillServing(client, hq)
        }
    }

    @Test("headers of 200 KB get 400 and a closed connection; HQ keeps serving")
    func hugeHeaders() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.live) { client in
            let digest = try await hq.store.contentDigest()
            let port = try #require(client.port)
            let request = "POST /v1/dealers/DLR-1/batches HTTP/1.1\r\nHost: hq\r\nAuthorization: Bearer \(hq.tokens["DLR-1"]!)\r\n"
                + "X-Padding: \(String(repeating: "a", count: 200_000))\r\nContent-Length: 0\r\n\r\n"
            let answer = try await onOwnThread { try RawHTTP.exchange(port: port, Array(request.utf8)) }
            #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer.prefix(40))")
            #expect(try await hq.store.contentDigest() == digest)
            try await Self.expectStillServing(client, hq)
        }
    }

    /// Seeded mutations of a valid batch (bit flips, cuts, insertions, repeated ranges,
    /// varints of 0xFF), each gzipped with a correct checksum so it reaches the decoder.
    /// A body the decoder refuses must get a 4xx and leave the store as it was; a body that
    /// still decodes may be accepted. Nothing may get a 5xx.
    @Test("fuzzing the batch decoder through HQ: no 5xx, refusals change nothing")
    func fuzzBatches() async throws {
        let cases = ProcessInfo.processInfo.environment["DEALERSYNC_FUZZ_CASES"].flatMap(Int.init) ?? 400
        let seed = ProcessInfo.processInfo.environment["DEALERSYNC_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_261_123
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        var dealer = FakeDealer("DLR-1")
        let rows = (0..<6).map { index in
            dealer.insert("customers", key: [.text("C-\(index)")], [
                "name": .text("客户\(index)"), "visits": .integer(Int64(index) << 40), "score": .real(Double(index) / 3),
                "photo": .blob([0, 1, 2, UInt8(index)]), "note": .null,
            ])
        }
        let valid = Batch(dealer: dealer.node, schemaVersion: 3, firstSequence: 1, lastSequence: 6, rows: rows).encoded()
        let app = try await buildApplication(hq.config)
        let (refused, accepted) = try await app.test(.router) { client in
            var random = SeededGenerator(seed: seed)
            var refused = 0
            var accepted = 0
            for index in 0..<cases {
                let body = Self.mutate(valid, using: &random)
                let decodes = (try? Batch(decoding: body)) != nil
                let before = try await hq.store.contentDigest()
                let response = try await client.push("DLR-1", PushRequest(compressed: Gzip.compress(body), token: hq.tokens["DLR-1"]!))
                #expect(response.status.code < 500, "case \(index) (seed \(seed)): \(response.status)")
                if decodes && response.status == .ok {
                    accepted += 1
                } else {
                    refused += 1
                    #expect((400..<500).contains(response.status.code), "case \(index) (seed \(seed)) does not decode yet got \(response.status)")
                    #expect(try await hq.store.contentDigest() == before, "case \(index) (seed \(seed)) was refused but changed the store")
                }
            }
            try await Self.expectStillServing(client, hq)
            return (refused, accepted)
        }
        print("fuzz: \(cases) mutated batches (seed \(seed)): \(refused) refused with 4xx, \(accepted) still valid and accepted, 0 server errors")
    }

    static func mutate(_ bytes: [UInt8], using random: inout SeededGenerator) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0: bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            case 1: bytes[at] = UInt8.random(in: 0...255, using: &random)
            case 2: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...16, using: &random)))
            case 3: bytes.insert(contentsOf: (0..<Int.random(in: 1...8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }, at: at)
            case 4: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 12)], at: at)
            default: bytes.insert(contentsOf: [UInt8](repeating: 0xFF, count: Int.random(in: 1...12, using: &random)), at: at)
            }
        }
        return bytes
    }

    /// A good push still works: HQ was not wedged by what came before.
    static func expectStillServing(_ client: some TestClientProtocol, _ hq: HQFixture) async throws {
        var dealer = FakeDealer("DLR-2")
        let batch = Batch(
            dealer: dealer.node, schemaVersion: 3, firstSequence: 1, lastSequence: 1,
            rows: [dealer.insert("customers", key: [.text("C-alive")], ["name": .text("ok")])])
        let response = try await client.push("DLR-2", PushRequest(batch: batch, token: hq.tokens["DLR-2"]!))
        #expect(response.status == .ok, "HQ stopped serving good pushes")
    }
}

/// One request over a plain TCP socket, for bytes no HTTP client would send.
enum RawHTTP {
    /// Sends `bytes` to 127.0.0.1:`port` and returns what comes back until HQ closes (or 5 s
    /// pass). HQ may close before reading everything; what it answered is what counts.
    static func exchange(port: Int, _ bytes: [UInt8]) throws -> String {
        let socket = try LoopbackSocket(port: port, send: bytes)
        defer { socket.close() }
        return socket.readAllBlocking(timeoutSeconds: 5)
    }
}
