import Foundation
import Testing
@testable import SyncCore

/// The wire format is pinned by checked-in bytes. Changing the encoding without bumping
/// `Batch.formatVersion` fails `encodingMatchesGolden`; bumping it fails until a fixture for
/// the new version is added (run with DEALERSYNC_WRITE_GOLDEN=1 once, review, commit).
@Suite("Golden wire fixtures")
struct GoldenFixtureTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static var currentFixture: URL { fixtures.appendingPathComponent("batch-v\(Batch.formatVersion).bin") }

    /// A batch that exercises every part of the format: all storage classes, a composite
    /// key, a conflict (two writes in one column), a tombstone, several nodes.
    static func goldenBatch() throws -> Batch {
        let d1 = try NodeID("DLR-0421"), d2 = try NodeID("DLR-0007")
        func t(_ ms: UInt64, _ logical: UInt64 = 0) -> HLCTimestamp { HLCTimestamp(physicalMillis: ms, logical: logical) }
        var customer = RowVersion.inserted(
            table: "customers", key: RowKey([.text("5f0c2a9e-0000-4000-8000-000000000001")]),
            values: [
                "name": .text("王小明"), "mobile": .text("13912345678"), "visits": .integer(Int64.max),
                "balance": .real(-0.0), "photo": .blob([0, 1, 254, 255]), "email": .null, "score": .real(1.0),
            ],
            dot: Dot(node: d1, counter: 1), hlc: t(1_763_900_000_000))
        var concurrent = customer
        customer.write(["mobile": .text("13700000000")], dot: Dot(node: d1, counter: 2), hlc: t(1_763_900_000_500))
        concurrent.write(["mobile": .text("13600000000")], dot: Dot(node: .hq, counter: 1), hlc: t(1_763_900_000_400, 3))
        customer = merge(local: customer, remote: concurrent, policy: .lastWriterWins).merged

        var line = RowVersion.inserted(
            table: "service_lines", key: RowKey([.integer(Int64.min), .text("客户 名称"), .blob([])]),
            values: ["qty": .integer(2), "price": .real(5e-324)], dot: Dot(node: d2, counter: 9), hlc: t(1_763_800_000_000, 65535))
        line.delete(dot: Dot(node: d2, counter: 10), hlc: t(1_763_800_000_001))
        return Batch(dealer: d1, schemaVersion: 1, firstSequence: 101, lastSequence: 250, rows: [customer, line])
    }

    @Test("the encoder writes exactly the golden bytes of the current format version")
    func encodingMatchesGolden() throws {
        let bytes = try Self.goldenBatch().encoded()
        if ProcessInfo.processInfo.environment["DEALERSYNC_WRITE_GOLDEN"] == "1" {
            try Data(bytes).write(to: Self.currentFixture)
        }
        guard let golden = try? Data(contentsOf: Self.currentFixture) else {
            Issue.record("no fixture \(Self.currentFixture.lastPathComponent): a format version bump needs one (DEALERSYNC_WRITE_GOLDEN=1)")
            return
        }
        #expect(
            Array(golden) == bytes,
            "the wire format changed without a version bump: bump Batch.formatVersion and add a fixture")
    }

    @Test("the golden bytes decode to the golden batch and re-encode identically")
    func goldenDecodes() throws {
        let golden = Array(try Data(contentsOf: Self.currentFixture))
        let decoded = try Batch(decoding: golden)
        #expect(decoded == (try Self.goldenBatch()))
        #expect(decoded.encoded() == golden)
        #expect(decoded.rows[0].conflicts(policy: .lastWriterWins).map(\.column) == ["mobile"])
    }
}
