import Testing
import SyncTestSupport
@testable import SyncCore

@Suite("Batch codec: malformed input is refused with a precise, value-free error")
struct BatchCodecTests {
    static let secretPhone = "13812345678"

    static func sampleBatch() throws -> Batch {
        let node = try NodeID("DLR-7")
        let row = RowVersion.inserted(
            table: "customers", key: RowKey([.text("C-1")]),
            values: ["phone": .text(secretPhone), "name": .text("赵敏"), "visits": .integer(3)],
            dot: Dot(node: node, counter: 4), hlc: HLCTimestamp(physicalMillis: 1_700_000_000_000, logical: 1))
        return Batch(dealer: node, schemaVersion: 2, firstSequence: 10, lastSequence: 12, rows: [row, row])
    }

    func decodeError(_ bytes: [UInt8], limits: BatchLimits = BatchLimits()) -> SyncCoreError? {
        do {
            _ = try Batch(decoding: bytes, limits: limits)
            return nil
        } catch let error as SyncCoreError {
            #expect(!error.message.contains(Self.secretPhone) && !error.message.contains("赵敏"), "error leaks a value")
            return error
        } catch {
            Issue.record("unexpected error type \(error)")
            return nil
        }
    }

    @Test("every strict prefix of a batch is refused as truncated")
    func truncation() throws {
        let bytes = try Self.sampleBatch().encoded()
        for length in 0..<bytes.count {
            let error = decodeError(Array(bytes[0..<length]))
            #expect(error != nil, "prefix of \(length) bytes was accepted")
            if length >= 4 { #expect(error?.code == .truncated || error?.code == .malformedBatch, "length \(length): \(String(describing: error))") }
        }
    }

    @Test("trailing bytes are refused")
    func trailing() throws {
        let error = decodeError(try Self.sampleBatch().encoded() + [0])
        #expect(error?.code == .trailingData)
    }

    @Test("a wrong marker or format version is refused with a hint")
    func header() throws {
        var bytes = try Self.sampleBatch().encoded()
        bytes[0] = UInt8(ascii: "X")
        #expect(decodeError(bytes)?.code == .malformedBatch)
        bytes = try Self.sampleBatch().encoded()
        bytes[4] = 2
        let error = decodeError(bytes)
        #expect(error?.code == .unsupportedVersion)
        #expect(error?.hint.contains("same dealersync release") == true)
    }

    @Test("the row limit is enforced before rows are read")
    func rowLimit() throws {
        let error = decodeError(try Self.sampleBatch().encoded(), limits: BatchLimits(maxRows: 1))
        #expect(error?.code == .limitExceeded)
        #expect(error?.message.contains("2 rows") == true)
    }

    @Test("invalid UTF-8 in a value names the row and column")
    func invalidUTF8() throws {
        var bytes = try Self.sampleBatch().encoded()
        let phone = Array(Self.secretPhone.utf8)
        let at = try #require(bytes.firstRange(of: phone)).lowerBound
        bytes[at] = 0xFF
        let error = try #require(decodeError(bytes))
        #expect(error.message.contains("row 0") && error.message.contains("column 'phone'") && error.message.contains("UTF-8"), "\(error)")
    }

    @Test("an unknown value tag and an integer over 64 bits are refused")
    func typeConfusion() throws {
        let batch = try Self.sampleBatch()
        var bytes = batch.encoded()
        // The INTEGER 3 of `visits` is tag 1 then zigzag 6; make the tag unknown.
        let visits = try #require(bytes.firstRange(of: [1, 6])).lowerBound
        bytes[visits] = 9
        #expect(decodeError(bytes)?.message.contains("unknown value type tag 9") == true)

        var overflow = ByteWriter()
        overflow.writeRaw([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        var reader = ByteReader(overflow.bytes)
        #expect(throws: SyncCoreError.self) { try reader.readVarint() }
        var nonMinimal = ByteReader([0x80, 0x00])
        #expect(throws: SyncCoreError.self) { try nonMinimal.readVarint() }
        var maxValue = ByteWriter()
        maxValue.writeVarint(UInt64.max)
        var maxReader = ByteReader(maxValue.bytes)
        #expect(try maxReader.readVarint() == UInt64.max)
    }

    @Test("a write that the row's version vector does not cover is refused")
    func uncoveredDot() throws {
        let node = try NodeID("DLR-7")
        let row = RowVersion(
            table: "t", key: RowKey([.integer(1)]), versionVector: VersionVector([node: 1]),
            origin: RowOrigin(node: node, hlc: .zero),
            liveness: [LivenessWrite(alive: true, dot: Dot(node: node, counter: 2), hlc: .zero)], columns: [:])
        let bytes = Batch(dealer: node, schemaVersion: 1, firstSequence: 1, lastSequence: 1, rows: [row]).encoded()
        #expect(decodeError(bytes)?.message.contains("not covered") == true)
    }

    @Test("random corruption never crashes the decoder and never yields a different batch silently")
    func fuzzedCorruption() throws {
        let original = try Self.sampleBatch()
        let bytes = original.encoded()
        var generator = SeededGenerator(seed: 99)
        for round in 0..<3_000 {
            var corrupted = bytes
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                corrupted[Int.random(in: 0..<corrupted.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if let decoded = try? Batch(decoding: corrupted) {
                // Accepted only if it is canonical: re-encoding gives the same bytes.
                #expect(decoded.encoded() == corrupted, "round \(round)")
            }
        }
    }
}

@Suite("gzip codec")
struct GzipTests {
    @Test("compress and decompress round-trip")
    func roundTrip() throws {
        let input = Array("客户 customers ".utf8) + Array(repeating: 7, count: 100_000)
        let compressed = Gzip.compress(input)
        #expect(compressed.count < input.count / 10)
        #expect(compressed.prefix(2) == [0x1f, 0x8b], "gzip magic")
        #expect(try Gzip.decompress(compressed, maxOutputBytes: input.count) == input)
        #expect(try Gzip.decompress(Gzip.compress([]), maxOutputBytes: 0) == [])
    }

    @Test("output one byte over the cap is refused")
    func exactCap() throws {
        let input = [UInt8](repeating: 1, count: 1000)
        let compressed = Gzip.compress(input)
        #expect(try Gzip.decompress(compressed, maxOutputBytes: 1000).count == 1000)
        #expect(throws: SyncCoreError.self) { try Gzip.decompress(compressed, maxOutputBytes: 999) }
    }

    @Test("a 1 GiB zip bomb stops at the cap")
    func zipBomb() throws {
        let bomb = GzipBomb.zeros(expandedBytes: 1 << 30)
        #expect(bomb.count < 2 << 20, "the bomb is about 1 MB")
        do {
            _ = try Gzip.decompress(bomb, maxOutputBytes: 8 << 20)
            Issue.record("the bomb was decompressed")
        } catch let error as SyncCoreError {
            #expect(error.code == .limitExceeded)
        }
    }

    @Test("truncated streams, trailing garbage, two members and non-gzip bytes are refused")
    func malformedStreams() throws {
        let compressed = Gzip.compress(Array(repeating: 42, count: 5000) + Array(0...255))
        func code(_ bytes: [UInt8]) -> SyncCoreError.Code? {
            do { _ = try Gzip.decompress(bytes, maxOutputBytes: 1 << 20); return nil } catch let error as SyncCoreError { return error.code } catch { return nil }
        }
        for cut in [1, 4, 8, compressed.count / 2] {
            #expect(code(Array(compressed.dropLast(cut))) == .truncated, "cut \(cut)")
        }
        #expect(code([]) == .truncated)
        #expect(code(compressed + [0x00]) == .trailingData)
        #expect(code(compressed + compressed) == .trailingData)
        #expect(code(Array("not gzip at all".utf8)) == .compressionFailed)
        var badCRC = compressed
        badCRC[badCRC.count - 6] ^= 0xFF
        #expect(code(badCRC) == .compressionFailed)
    }

    @Test("SHA-256 of the body matches the known digest")
    func checksum() {
        #expect(BodyChecksum.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(BodyChecksum.sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
