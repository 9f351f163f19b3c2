import Foundation
import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// Every refused push answers its status with a JSON `{error, hint}` body and leaves the
/// store exactly as it was.
@Suite("refused pushes")
struct RefusalTests {
    /// Sends `request` for `dealer` and checks status, error body and an unchanged store.
    func expectRefusal(
        _ status: HTTPResponse.Status, _ dealer: String = "DLR-1", limits: HQLimits = HQLimits(), mentioning fragment: String? = nil,
        _ make: (HQFixture) throws -> PushRequest, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let hq = try await HQFixture(limits: limits)
        defer { hq.cleanUp() }
        let digest = try await hq.store.contentDigest()
        let request = try make(hq)
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let response = try await client.push(dealer, request)
            #expect(response.status == status, sourceLocation: sourceLocation)
            let body = try errorBody(response)
            #expect(!body.hint.isEmpty, sourceLocation: sourceLocation)
            if let fragment { #expect(body.error.contains(fragment), "error was: \(body.error)", sourceLocation: sourceLocation) }
            #expect(!body.error.contains(hq.tokens["DLR-1"]!), sourceLocation: sourceLocation)
        }
        #expect(try await hq.store.contentDigest() == digest, "a refused push changed the store", sourceLocation: sourceLocation)
    }

    static func goodBatch(_ dealer: String = "DLR-1") -> Batch {
        var writer = FakeDealer(dealer)
        return Batch(
            dealer: writer.node, schemaVersion: 3, firstSequence: 1, lastSequence: 1,
            rows: [writer.insert("customers", key: [.text("C-1")], ["name": .text("Ada"), "phone": .text("+33 6 12 34 56 78")])])
    }

    @Test("no token is 401")
    func noToken() async throws {
        try await expectRefusal(.unauthorized) { hq in
            var request = PushRequest(batch: Self.goodBatch(), token: "x")
            request.headers[.authorization] = nil
            return request
        }
    }

    @Test("an unknown token is 401")
    func unknownToken() async throws {
        try await expectRefusal(.unauthorized) { _ in PushRequest(batch: Self.goodBatch(), token: Tokens.generate()) }
    }

    @Test("another dealer's token is 403")
    func otherDealersToken() async throws {
        try await expectRefusal(.forbidden, "DLR-1") { hq in PushRequest(batch: Self.goodBatch(), token: hq.tokens["DLR-2"]!) }
    }

    @Test("a reader token cannot push: 403")
    func readerToken() async throws {
        try await expectRefusal(.forbidden) { hq in PushRequest(batch: Self.goodBatch(), token: hq.tokens["crm"]!) }
    }

    @Test("a revoked dealer's token is 403, and its id cannot be issued again")
    func revoked() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        try await hq.store.revokePrincipal(id: "DLR-1")
        let digest = try await hq.store.contentDigest()
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let response = try await client.push("DLR-1", PushRequest(batch: Self.goodBatch(), token: hq.tokens["DLR-1"]!))
            #expect(response.status == .forbidden)
            #expect(try errorBody(response).error.contains("revoked"))
        }
        #expect(try await hq.store.contentDigest() == digest)
        await #expect(throws: StoreError.self) {
            try await hq.store.addPrincipal(NewPrincipal(id: "DLR-1", name: nil, kind: .dealer, tokenSHA256: "x", createdAtMillis: 2))
        }
    }

    @Test("a body without Content-Encoding: gzip is 415")
    func notGzip() async throws {
        try await expectRefusal(.unsupportedMediaType) { hq in
            var request = PushRequest(batch: Self.goodBatch(), token: hq.tokens["DLR-1"]!)
            request.headers[.contentEncoding] = nil
            return request
        }
    }

    @Test("a compressed body over max_body_bytes is 413")
    func bodyTooLarge() async throws {
        try await expectRefusal(.contentTooLarge, limits: HQLimits(maxBodyBytes: 1024), mentioning: "1024") { hq in
            var generator = SeededGenerator(seed: 7)
            let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
            return PushRequest(compressed: Gzip.compress(noise, level: 0), token: hq.tokens["DLR-1"]!)
        }
    }

    @Test("a zip bomb is 413 after decompressing no more than the limit")
    func zipBomb() async throws {
        try await expectRefusal(.contentTooLarge, limits: HQLimits(maxDecompressedBytes: 1 << 20), mentioning: "expands past") { hq in
            PushRequest(compressed: GzipBomb.zeros(expandedBytes: 64 << 20), token: hq.tokens["DLR-1"]!)
        }
    }

    @Test("more rows than max_rows is 413")
    func tooManyRows() async throws {
        try await expectRefusal(.contentTooLarge, limits: HQLimits(maxRows: 2), mentioning: "over the limit of 2") { hq in
            var writer = FakeDealer("DLR-1")
            let rows = (0..<3).map { writer.insert("customers", key: [.text("C-\($0)")], ["n": .integer(Int64($0))]) }
            return PushRequest(batch: Batch(dealer: writer.node, schemaVersion: 3, firstSequence: 1, lastSequence: 3, rows: rows), token: hq.tokens["DLR-1"]!)
        }
    }

    @Test("a wrong checksum is 400")
    func wrongChecksum() async throws {
        try await expectRefusal(.badRequest, mentioning: "checksum") { hq in
            var request = PushRequest(batch: Self.goodBatch(), token: hq.tokens["DLR-1"]!)
            request.headers[HTTPField.Name(BodyChecksum.headerName)!] = BodyChecksum.sha256Hex([1, 2, 3])
            return request
        }
    }

    @Test("a missing checksum is 400")
    func missingChecksum() async throws {
        try await expectRefusal(.badRequest, mentioning: BodyChecksum.headerName) { hq in
            var request = PushRequest(batch: Self.goodBatch(), token: hq.tokens["DLR-1"]!)
            request.headers[HTTPField.Name(BodyChecksum.headerName)!] = nil
            return request
        }
    }

    @Test("a truncated gzip stream is 400")
    func truncatedGzip() async throws {
        try await expectRefusal(.badRequest, mentioning: "ends early") { hq in
            let full = Gzip.compress(Self.goodBatch().encoded())
            return PushRequest(compressed: Array(full.prefix(full.count - 6)), token: hq.tokens["DLR-1"]!)
        }
    }

    @Test("bytes after the gzip stream are 400")
    func trailingGarbage() async throws {
        try await expectRefusal(.badRequest, mentioning: "follow the end") { hq in
            PushRequest(compressed: Gzip.compress(Self.goodBatch().encoded()) + [0x42, 0x42], token: hq.tokens["DLR-1"]!)
        }
    }

    @Test("a body that is not a batch is 400")
    func malformedDocument() async throws {
        try await expectRefusal(.badRequest, mentioning: "DSYN") { hq in
            PushRequest(compressed: Gzip.compress(Array("{\"rows\": []}".utf8)), token: hq.tokens["DLR-1"]!)
        }
    }

    @Test("a batch cut short inside a row is 400")
    func truncatedDocument() async throws {
        try await expectRefusal(.badRequest) { hq in
            let bytes = Self.goodBatch().encoded()
            return PushRequest(compressed: Gzip.compress(Array(bytes.prefix(bytes.count - 3))), token: hq.tokens["DLR-1"]!)
        }
    }

    @Test("a varint past 64 bits is 400")
    func varintOverflow() async throws {
        try await expectRefusal(.badRequest) { hq in
            let bytes = Array("DSYN".utf8) + [UInt8](repeating: 0xFF, count: 10) + [0x01]
            return PushRequest(compressed: Gzip.compress(bytes), token: hq.tokens["DLR-1"]!)
        }
    }

    @Test("invalid UTF-8 in a string is 400")
    func invalidUTF8() async throws {
        try await expectRefusal(.badRequest) { hq in
            // DSYN, format 1, dealer id of 5 bytes with an invalid UTF-8 sequence.
            let bytes = Array("DSYN".utf8) + [0x01, 0x05, 0x44, 0x4C, 0xC3, 0x28, 0x31]
            return PushRequest(compressed: Gzip.compress(bytes), token: hq.tokens["DLR-1"]!)
        }
    }

    @Test("a batch naming another dealer is 400")
    func dealerMismatch() async throws {
        try await expectRefusal(.badRequest, mentioning: "names dealer DLR-2") { hq in
            PushRequest(batch: Self.goodBatch("DLR-2"), token: hq.tokens["DLR-1"]!)
        }
    }
}
