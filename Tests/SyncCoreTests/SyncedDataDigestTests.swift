import SyncCore
import Testing

@Suite("Synced data digest")
struct SyncedDataDigestTests {
    let schema = SyncSchema(version: 1, tables: [])

    func row(_ id: String, _ name: String, node: String = "DLR-1", counter: UInt64 = 1) throws -> RowVersion {
        let dot = Dot(node: try NodeID(node), counter: counter)
        return .inserted(table: "customers", key: RowKey([.text(id)]), values: ["name": .text(name)], dot: dot, hlc: HLCTimestamp(physicalMillis: 1, logical: 0))
    }

    @Test("order does not matter; values, keys and tables do; deleted rows are left out")
    func canonical() throws {
        let a = try row("c1", "Li"), b = try row("c2", "Wang")
        let forward = SyncedDataDigest([(a, nil), (b, nil)], schema: schema)
        let backward = SyncedDataDigest([(b, nil), (a, nil)], schema: schema)
        #expect(forward == backward && forward.rows == 2)
        #expect(SyncedDataDigest([(a, nil), (try row("c2", "Wan"), nil)], schema: schema) != forward)
        #expect(SyncedDataDigest([(a, nil), (b, RowKey([.text("c3")]))], schema: schema) != forward)
        // The same data written by another node digests the same: only shown values count.
        #expect(SyncedDataDigest([(try row("c1", "Li", node: "DLR-2", counter: 7), nil), (b, nil)], schema: schema) == forward)
        var deleted = b
        deleted.delete(dot: Dot(node: try NodeID("DLR-1"), counter: 2), hlc: HLCTimestamp(physicalMillis: 2, logical: 0))
        #expect(SyncedDataDigest([(a, nil), (deleted, nil)], schema: schema) == SyncedDataDigest([(a, nil)], schema: schema))
    }
}
