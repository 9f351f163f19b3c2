import Testing
@testable import SyncCore

@Suite("SQLValue and RowKey")
struct ValueCodecTests {
    static let awkwardValues: [SQLValue] = [
        .integer(Int64.min), .integer(Int64.max), .integer(0), .integer(-1),
        .real(1.0), .real(-0.0), .real(0.0), .real(1e308), .real(5e-324), .real(-.infinity), .real(.infinity),
        .text("张伟"), .text("🚗💨"), .text("e\u{301}"), .text("\u{E9}"), .text(""), .text("a\u{0}b"),
        .blob([]), .blob([0, 255, 0, 128]), .blob(Array(0...255)), .null,
    ]

    func roundTrip(_ values: [String: SQLValue]) throws -> [String: SQLValue] {
        let node = try NodeID("DLR-1")
        let row = RowVersion.inserted(
            table: "customers", key: RowKey([.text("k")]), values: values,
            dot: Dot(node: node, counter: 1), hlc: HLCTimestamp(physicalMillis: 1_700_000_000_000, logical: 0))
        let batch = Batch(dealer: node, schemaVersion: 1, firstSequence: 1, lastSequence: 1, rows: [row])
        let decoded = try Batch(decoding: Gzip.decompress(Gzip.compress(batch.encoded()), maxOutputBytes: 1 << 20))
        #expect(decoded == batch)
        return decoded.rows[0].values(policy: .lastWriterWins)
    }

    @Test("every storage class survives a round trip through the batch codec exactly")
    func storageClassesRoundTrip() throws {
        var values: [String: SQLValue] = [:]
        for (index, value) in Self.awkwardValues.enumerated() { values["c\(index)"] = value }
        let decoded = try roundTrip(values)
        for (column, value) in values {
            let back = try #require(decoded[column])
            #expect(back == value, "column \(column)")
            #expect(back.storageClass == value.storageClass)
        }
        // The distinctions the issue names, checked on the decoded side.
        #expect(decoded["c4"] == .real(1.0) && decoded["c4"] != .integer(1))
        if case .real(let negativeZero) = decoded["c5"]! { #expect(negativeZero.sign == .minus) } else { Issue.record("-0.0 lost its class") }
        #expect(decoded["c15"] == .text("") && decoded["c15"] != .null)
        #expect(decoded["c17"] == .blob([]) && decoded["c17"] != .null && decoded["c17"] != .text(""))
        #expect(decoded["c13"] != decoded["c14"], "combining marks are not normalised")
    }

    @Test("a NaN REAL is refused: SQLite would store it as NULL")
    func nanRefused() {
        #expect(throws: SyncCoreError.self) { try SQLValue.real(.nan).validated() }
        #expect((try? SQLValue.real(1.5).validated()) == .real(1.5))
    }

    @Test("values never print their content")
    func descriptionHidesContent() {
        #expect("\(SQLValue.text("13800138000"))" == "<TEXT>")
        #expect("\(RowKey([.text("13800138000"), .integer(7)]))" == "(TEXT, INTEGER)")
    }

    @Test("row keys are unambiguous across splits and storage classes")
    func rowKeysAreUnambiguous() throws {
        #expect(RowKey([.text("a"), .text("bc")]) != RowKey([.text("ab"), .text("c")]))
        let one = [RowKey([.integer(1)]), RowKey([.real(1.0)]), RowKey([.text("1")]), RowKey([.blob([0x31])])]
        #expect(Set(one).count == 4)
        #expect(RowKey([.null, .text("")]) != RowKey([.text(""), .null]))
        #expect(RowKey([.text("")]) != RowKey([.null]))
        // Composite keys of every class decode back to themselves.
        let key = RowKey(Self.awkwardValues)
        #expect(try RowKey(bytes: key.bytes) == key)
        #expect(try RowKey(bytes: key.bytes).values == Self.awkwardValues)
    }

    @Test("distinct random keys have distinct encodings")
    func randomKeysInjective() {
        var generator = SyncTestSupportShim.generator(seed: 7)
        var seen: [[UInt8]: [SQLValue]] = [:]
        for _ in 0..<5_000 {
            let values = (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                RandomValues.value(using: &generator)
            }
            let key = RowKey(values)
            if let earlier = seen[key.bytes] {
                #expect(earlier == values, "two different keys share one encoding")
            }
            seen[key.bytes] = values
        }
    }

    @Test("a key with trailing bytes is refused")
    func keyTrailingBytes() {
        let key = RowKey([.integer(5)])
        #expect(throws: SyncCoreError.self) { try RowKey(bytes: key.bytes + [0]) }
    }
}
