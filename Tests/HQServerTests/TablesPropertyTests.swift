import Foundation
import GRDB
import SQLiteValues
@testable import HQServer
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// Random histories from three stores and HQ leave HQ's SQL tables equal, row by row and by
/// storage class, to the merged state the feed describes (docs/HQ-TABLES.md): concurrent
/// edits, deletes and re-inserts, an origin-owned column, values of every storage class in
/// INTEGER and TEXT columns, a learned table (`leads`, no declared columns) whose shape
/// grows mid-way — sometimes after rows already carry the new column, then filled — and HQ
/// moving leads between stores through the HQ-owned routing column.
/// `DEALERSYNC_TABLES_SEEDS` sets how many seeds (CI: 12).
@Suite("HQ's SQL tables over random histories")
struct TablesPropertyTests {
    static let seeds: [UInt64] = {
        let count = ProcessInfo.processInfo.environment["DEALERSYNC_TABLES_SEEDS"].flatMap(Int.init) ?? 12
        return (0..<UInt64(count)).map { 20_261_203 &+ $0 }
    }()

    static let schemaYAML = HQTablesTests.schema + """

          - name: leads
            direction: both
            routing_column: assigned_dealer
            owners:
              assigned_dealer: hq
        """

    /// `leads` as the stores report it: `priority` arrives with a later DMS upgrade.
    static func leadsShape(withPriority: Bool) -> ShapeReport {
        ShapeReport(tables: [ShapeReport.Table(
            name: "leads", key: ["id"],
            columns: [("id", "TEXT"), ("state", "TEXT"), ("assigned_dealer", "TEXT")].map { ShapeReport.Column(name: $0.0, type: $0.1) }
                + (withPriority ? [ShapeReport.Column(name: "priority", type: "INTEGER")] : []))])
    }

    static func value(_ generator: inout SeededGenerator) -> SQLValue {
        switch Int.random(in: 0..<6, using: &generator) {
        case 0: .null
        case 1, 2: .integer(Int64.random(in: -5...500, using: &generator))
        case 3: .real([2.5, 5.0, -0.0][Int.random(in: 0..<3, using: &generator)])
        case 4: .text(["12", "abc", "张伟", ""][Int.random(in: 0..<4, using: &generator)])
        default: .blob([UInt8.random(in: 0...255, using: &generator)])
        }
    }

    @Test("the tables equal the merged state the feed describes after every history", arguments: seeds)
    func randomHistory(seed: UInt64) async throws {
        let hq = try await HQFixture(schemaYAML: Self.schemaYAML, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        let schema = try SyncSchema(yaml: Self.schemaYAML)
        let keys = (0..<6).map { "K-\($0)" }
        try await app.test(.router) { client in
            var generator = SeededGenerator(seed: seed)
            var dealers = ["DLR-1", "DLR-2", "DLR-3"].map(FakeDealer.init)
            var sequences = [UInt64](repeating: 0, count: 3)
            // The newest version the stores have of each row (as if pulled), by "table/key".
            var known: [String: RowVersion] = [:]
            var priorityReported = false
            if Bool.random(using: &generator) {
                _ = try await ShapeTests.put(client, hq, "DLR-1", Self.leadsShape(withPriority: false))
            }
            for _ in 0..<Int.random(in: 40...70, using: &generator) {
                let index = Int.random(in: 0..<3, using: &generator)
                let dealer = dealers[index].node.rawValue
                let table = Bool.random(using: &generator) ? "customers" : "leads"
                let key = keys.randomElement(using: &generator)!
                let policy = try #require(schema.table(named: table)).policy
                let values: [String: SQLValue] = table == "customers"
                    ? ["name": Self.value(&generator), "score": Self.value(&generator)]
                    : ["state": Self.value(&generator), "assigned_dealer": .text(dealer)]
                        .merging(Bool.random(using: &generator) ? ["priority": Self.value(&generator)] : [:]) { $1 }
                var row: RowVersion?
                switch (Int.random(in: 0..<7, using: &generator), known["\(table)/\(key)"]) {
                case (5, _):
                    // A DMS upgrade adds `leads.priority`; rows may carry it already.
                    if !priorityReported {
                        priorityReported = true
                        _ = try await ShapeTests.put(client, hq, dealer, Self.leadsShape(withPriority: true))
                    }
                case (6, _):
                    _ = try await hq.store.fillTables(chunk: 2)
                case (0, _), (_, nil):
                    row = dealers[index].insert(table, key: [.text(key)], table == "customers" ? values.merging(["notes": .text("by \(dealer)")]) { $1 } : values)
                case (1, let current?) where current.isAlive(policy: policy), (2, let current?) where current.isAlive(policy: policy):
                    row = dealers[index].update(current, values)
                case (3, _):
                    // HQ writes: a score, or a lead moved to another store (a routing change).
                    let json = table == "customers"
                        ? #"{"table":"customers","key":["\#(key)"],"values":{"score":\#(Int.random(in: 0...9, using: &generator))}}"#
                        : #"{"table":"leads","key":["\#(key)"],"values":{"assigned_dealer":"DLR-\#(Int.random(in: 1...3, using: &generator))"}}"#
                    _ = try await client.hqWrite(json, token: hq.tokens["hq-crm"]!)
                case (_, let current?):
                    row = current.isAlive(policy: policy) ? dealers[index].delete(current) : dealers[index].update(current, values)
                }
                if let row {
                    sequences[index] += 1
                    _ = try await HostileDealerTests.push(client, hq, dealer, [row], sequence: sequences[index])
                    if table == "customers" {
                        for other in dealers.map(\.node) where other.rawValue != dealer {
                            _ = try await hq.store.share(table: table, key: RowKey([.text(key)]), with: other)
                        }
                    }
                }
                if let merged = try await hq.store.rowVersion(table: table, key: RowKey([.text(key)]), dealer: dealers[0].node, schema: schema) {
                    known["\(table)/\(key)"] = merged
                }
            }
            if !priorityReported { _ = try await ShapeTests.put(client, hq, "DLR-2", Self.leadsShape(withPriority: true)) }
            _ = try await hq.store.fillTables(chunk: 2)

            #expect(try hq.store.checkTables() == ["customers": 0, "leads": 0, "visits": 0], "seed \(seed)")
            let feed = try await Self.feedState(client, hq)
            let tables = try HQTablesTests.reader(hq)
            for table in ["customers", "leads"] {
                let problems = try await tables.read { db in try Self.differences(db, table: table, feed: feed) }
                #expect(problems.isEmpty, "seed \(seed): \(problems)")
            }
        }
    }

    /// One change of the feed, as an HQ system reads it.
    struct Change: Decodable {
        var table: String
        var key: [TypedValue]
        var deleted: Bool
        var values: [String: TypedValue]
    }

    struct Page: Decodable {
        var changes: [Change]
        var next_cursor: String
    }

    /// The feed from the start, folded to the latest change of each row ("table/key").
    static func feedState(_ client: some TestClientProtocol, _ hq: HQFixture) async throws -> [String: Change] {
        var state: [String: Change] = [:]
        var cursor = "c1.0"
        for _ in 0..<1_000 {
            let response = try await client.execute(uri: "/v1/feed?after=\(cursor)&limit=100", method: .get, headers: hq.bearer("crm"))
            let page = try JSONDecoder().decode(Page.self, from: Data(response.body.readableBytesView))
            for change in page.changes { state["\(change.table)/\(Self.text(change.key[0].value))"] = change }
            if page.changes.isEmpty { break }
            cursor = page.next_cursor
        }
        return state
    }

    static func text(_ value: SQLValue) -> String { if case .text(let text) = value { text } else { "\(value)" } }

    /// Where `table` differs from the feed's rows: keys live in one and not the other, and
    /// every column, by storage class and value. The feed's values go through a scratch
    /// table with the same declared types, so SQLite converts them as it converted the real ones.
    static func differences(_ db: Database, table: String, feed: [String: Change]) throws -> [String] {
        let columns = try Row.fetchAll(db, sql: "SELECT name, type FROM pragma_table_xinfo(?)", arguments: [table])
            .map { (name: $0["name"] as String, type: $0["type"] as String) }
            .filter { !$0.name.hasPrefix("_") }
        let scratch = try DatabaseQueue()
        try scratch.write { db in
            try db.execute(sql: "CREATE TABLE t (\(columns.map { "\"\($0.name)\" \($0.type)" }.joined(separator: ", ")))")
        }
        var problems: [String] = []
        let live = feed.filter { $0.key.hasPrefix("\(table)/") && !$0.value.deleted }
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"")
        let shown = Dictionary(uniqueKeysWithValues: rows.map { ("\(table)/\($0["id"] as String)", $0) })
        if Set(shown.keys) != Set(live.keys) { problems.append("\(table) keys \(shown.keys.sorted()) != feed \(live.keys.sorted())") }
        for (id, change) in live {
            guard let row = shown[id] else { continue }
            let expected = try scratch.write { db -> Row in
                try db.execute(sql: "DELETE FROM t")
                let values = columns.map { column in column.name == "id" ? change.key[0].value : change.values[column.name]?.value ?? .null }
                try db.execute(
                    sql: "INSERT INTO t VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))",
                    arguments: StatementArguments(values.map(\.databaseValue)))
                return try Row.fetchOne(db, sql: "SELECT * FROM t")!
            }
            // `storage` tells 5 from 5.0, which DatabaseValue's == does not.
            for column in columns where "\((expected[column.name] as DatabaseValue).storage)" != "\((row[column.name] as DatabaseValue).storage)" {
                problems.append("\(id).\(column.name): table \((row[column.name] as DatabaseValue).storage), feed \((expected[column.name] as DatabaseValue).storage)")
            }
        }
        return problems
    }
}
