import Testing
@testable import SyncCapture
import SyncCore
import SyncTestSupport

@Suite("Clock record encoding")
struct ClockRecordTests {
    static let columns = ["name", "mobile", "class", "notes", "visits"]

    /// Random versions shaped like the apply path makes them: concurrent writes from three
    /// nodes merged together, some deleted, some with conflicts.
    static func randomVersion(_ generator: inout SeededGenerator) -> RowVersion {
        let nodes = [NodeID.hq, try! NodeID("DLR-1"), try! NodeID("DLR-2")]
        let key = RowKey([.text("k")])
        var versions: [RowVersion] = []
        var base = RowVersion.inserted(
            table: "t", key: key, values: Dictionary(uniqueKeysWithValues: columns.map { ($0, SQLValue.text("v0")) }),
            dot: Dot(node: nodes[1], counter: 1), hlc: HLCTimestamp(physicalMillis: 1_763_900_000_000, logical: 0))
        for (index, node) in nodes.enumerated() {
            var copy = base
            for step in 0..<Int.random(in: 0...3, using: &generator) {
                let hlc = HLCTimestamp(physicalMillis: UInt64(1_763_900_000_000 + Int.random(in: -5_000...5_000, using: &generator)), logical: 0)
                let dot = Dot(node: node, counter: UInt64(10 + index * 10 + step))
                if Int.random(in: 0..<5, using: &generator) == 0 {
                    copy.delete(dot: dot, hlc: hlc)
                } else {
                    let column = columns.randomElement(using: &generator)!
                    copy.write([column: .integer(Int64(step))], dot: dot, hlc: hlc)
                }
            }
            versions.append(copy)
        }
        for version in versions { base = merge(local: base, remote: version, policy: .lastWriterWins).merged }
        return base
    }

    @Test("encode then decode with the DMS row gives back the same version", arguments: 0..<4)
    func roundTrip(chunk: Int) throws {
        var nodes: [NodeID] = []
        func ref(_ node: NodeID) -> Int {
            if let index = nodes.firstIndex(of: node) { return index }
            nodes.append(node)
            return nodes.count - 1
        }
        for seed in UInt64(chunk * 500)..<UInt64(chunk * 500 + 500) {
            var generator = SeededGenerator(seed: seed)
            let version = Self.randomVersion(&generator)
            // Some columns exist only remotely ("notes" is not in this store's table).
            let live = Set(Self.columns.filter { $0 != "notes" })
            let bits = Self.columns.filter { $0 != "visits" } + []
            let record = ClockRecord.encode(version, bitColumns: bits, liveColumns: live, nodeRef: ref)
            let alive = version.isAlive(policy: .lastWriterWins)
            let dms: [String: SQLValue]? = alive ? version.values(policy: .lastWriterWins).filter { live.contains($0.key) } : nil
            let decoded = try ClockRecord.decode(
                record, table: "t", key: version.key, bitColumns: bits, dmsValues: dms, node: { $0 < nodes.count ? nodes[$0] : nil })
            if alive {
                #expect(decoded == version, "seed \(seed)")
            } else {
                #expect(decoded.columns.isEmpty && decoded.versionVector == version.versionVector && decoded.liveness == version.liveness, "seed \(seed)")
            }
        }
    }

    @Test("a row written once by one node costs a few bytes")
    func compact() {
        let version = RowVersion.inserted(
            table: "t", key: RowKey([.text("k")]), values: Dictionary(uniqueKeysWithValues: Self.columns.map { ($0, SQLValue.null) }),
            dot: Dot(node: try! NodeID("DLR-1"), counter: 123_456), hlc: HLCTimestamp(physicalMillis: 1_763_900_000_000, logical: 0))
        let record = ClockRecord.encode(version, bitColumns: Self.columns, liveColumns: Set(Self.columns), nodeRef: { _ in 1 })
        #expect(record.count <= 14, "\(record.count) bytes")
    }
}
