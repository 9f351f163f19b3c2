import Foundation
import GRDB
import HQServer
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// Random histories from three stores and HQ (concurrent edits, deletes and re-inserts, an
/// origin-owned column, values of every storage class in an INTEGER column) leave HQ's SQL
/// tables equal, row by row and by storage class, to the merged state: each live key's row
/// shows what the policy shows, a deleted key has no row (docs/HQ-TABLES.md).
/// `DEALERSYNC_TABLES_SEEDS` sets how many seeds (CI: 12).
@Suite("HQ's SQL tables over random histories")
struct TablesPropertyTests {
    static let seeds: [UInt64] = {
        let count = ProcessInfo.processInfo.environment["DEALERSYNC_TABLES_SEEDS"].flatMap(Int.init) ?? 12
        return (0..<UInt64(count)).map { 20_261_203 &+ $0 }
    }()

    static func value(_ generator: inout SeededGenerator) -> SQLValue {
        switch Int.random(in: 0..<6, using: &generator) {
        case 0: .null
        case 1, 2: .integer(Int64.random(in: -5...500, using: &generator))
        case 3: .real([2.5, 5.0, -0.0][Int.random(in: 0..<3, using: &generator)])
        case 4: .text(["12", "abc", "张伟", ""][Int.random(in: 0..<4, using: &generator)])
        default: .blob([UInt8.random(in: 0...255, using: &generator)])
        }
    }

    @Test("the tables equal the merged state after every history", arguments: seeds)
    func randomHistory(seed: UInt64) async throws {
        let hq = try await HQFixture(schemaYAML: HQTablesTests.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        let schema = try SyncSchema(yaml: HQTablesTests.schema)
        let policy = try #require(schema.table(named: "customers")).policy
        let keys = (0..<6).map { "K-\($0)" }
        try await app.test(.router) { client in
            var generator = SeededGenerator(seed: seed)
            var dealers = ["DLR-1", "DLR-2", "DLR-3"].map(FakeDealer.init)
            var sequences = [UInt64](repeating: 0, count: 3)
            // The newest version each store has of each key (as if pulled).
            var known: [String: RowVersion] = [:]
            for _ in 0..<Int.random(in: 30...50, using: &generator) {
                let index = Int.random(in: 0..<3, using: &generator)
                let dealer = dealers[index].node.rawValue
                let key = keys.randomElement(using: &generator)!
                var row: RowVersion?
                switch (Int.random(in: 0..<4, using: &generator), known[key]) {
                case (0, _), (_, nil):
                    row = dealers[index].insert("customers", key: [.text(key)], ["name": Self.value(&generator), "score": Self.value(&generator), "notes": .text("by \(dealer)")])
                case (1, let current?), (2, let current?) where current.isAlive(policy: policy):
                    row = dealers[index].update(current, ["name": Self.value(&generator), "score": Self.value(&generator)])
                case (3, _):
                    let json = #"{"table":"customers","key":["\#(key)"],"values":{"score":\#(Int.random(in: 0...9, using: &generator))}}"#
                    _ = try await client.hqWrite(json, token: hq.tokens["hq-crm"]!)
                case (_, let current?):
                    row = current.isAlive(policy: policy) ? dealers[index].delete(current) : dealers[index].update(current, ["name": .text("again")])
                }
                if let row {
                    sequences[index] += 1
                    _ = try await HostileDealerTests.push(client, hq, dealer, [row], sequence: sequences[index])
                    for other in dealers.map(\.node) where other.rawValue != dealer {
                        _ = try await hq.store.share(table: "customers", key: RowKey([.text(key)]), with: other)
                    }
                }
                if let merged = try await hq.store.rowVersion(table: "customers", key: RowKey([.text(key)]), dealer: dealers[0].node, schema: schema) {
                    known[key] = merged
                }
            }

            #expect(try hq.store.checkTables() == ["customers": 0, "visits": 0], "seed \(seed)")
            let tables = try HQTablesTests.reader(hq)
            for key in keys {
                let merged = try await hq.store.rowVersion(table: "customers", key: RowKey([.text(key)]), dealer: dealers[0].node, schema: schema)
                let row = try await tables.read { db in try Row.fetchOne(db, sql: "SELECT name, typeof(name) AS class, _origin FROM customers WHERE id = ?", arguments: [key]) }
                guard let merged, merged.isAlive(policy: policy) else {
                    #expect(row == nil, "seed \(seed): \(key) is deleted but still in the table")
                    if merged != nil {
                        let listed = try await tables.read { db in
                            try Int.fetchOne(db, sql: "SELECT count(*) FROM _dealersync_deleted WHERE key_json LIKE ?", arguments: ["%\"\(key)\"%"])
                        }
                        #expect(listed == 1, "seed \(seed): \(key) is deleted but not listed in _dealersync_deleted")
                    }
                    continue
                }
                // `name` is declared TEXT: SQLite stores numbers as text there, NULL and blobs as they are.
                let shown = merged.values(policy: policy)["name"] ?? .null
                let expected = switch shown { case .null: "null"; case .blob: "blob"; default: "text" }
                #expect(row?["class"] as String? == expected, "seed \(seed): \(key) name \(shown)")
                #expect(row?["_origin"] as String? == merged.origin.node.rawValue, "seed \(seed): \(key)")
            }
        }
    }
}
