import Foundation
import GRDB
import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// HQ's SQL tables learned from the stores' shape reports (`PUT /v1/dealers/{id}/shape`,
/// docs/HQ-TABLES.md): tables whose columns the sync schema does not declare.
@Suite("Table shapes reported by stores")
struct ShapeTests {
    static let schema = """
        version: 3
        tables:
          - name: customers
            direction: both
          - name: visits
            direction: up
          - name: prices
            direction: down
            key: [sku]
            columns:
              - sku: TEXT
              - price: REAL
        """

    static func shape(_ tables: [(String, [String], [(String, String)])]) -> ShapeReport {
        ShapeReport(tables: tables.map { name, key, columns in
            ShapeReport.Table(name: name, key: key, columns: columns.map { ShapeReport.Column(name: $0.0, type: $0.1) })
        })
    }

    /// PUTs `body` as `dealer` (its own token unless `token` names another).
    static func put(_ client: some TestClientProtocol, _ hq: HQFixture, _ dealer: String, _ body: [UInt8], token: String? = nil) async throws -> (HTTPResponse.Status, String) {
        var headers = hq.bearer(token ?? dealer)
        headers[.contentType] = "application/json"
        let response = try await client.execute(uri: "/v1/dealers/\(dealer)/shape", method: .put, headers: headers, body: ByteBuffer(bytes: body))
        return (response.status, String(decoding: response.body.readableBytesView, as: UTF8.self))
    }

    static func put(_ client: some TestClientProtocol, _ hq: HQFixture, _ dealer: String, _ report: ShapeReport) async throws -> ShapeOutcome {
        let (status, body): (HTTPResponse.Status, String) = try await put(client, hq, dealer, try report.encoded())
        guard status == .ok else { throw TestFailure("shape answered \(status): \(body)") }
        return try JSONDecoder().decode(ShapeOutcome.self, from: Data(body.utf8))
    }

    static func columns(_ hq: HQFixture, _ table: String) throws -> [String] {
        try HQTablesTests.reader(hq).read { db in
            try Row.fetchAll(db, sql: "SELECT name, type FROM pragma_table_xinfo(?)", arguments: [table]).map { "\($0["name"] as String) \($0["type"] as String)" }
        }
    }

    @Test("a reported table appears with the store's columns and types; a column a DMS upgrade adds appears while HQ runs; a declared table is left as declared")
    func learnsAndGrows() async throws {
        let hq = try await HQFixture(schemaYAML: Self.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.live) { client in
            let first = try await Self.put(client, hq, "DLR-1", Self.shape([
                ("customers", ["id"], [("id", "TEXT"), ("name", "VARCHAR(40)"), ("score", "INTEGER")]),
                ("visits", ["id"], [("id", "INTEGER"), ("note", "TEXT")]),
                ("prices", ["sku"], [("sku", "TEXT"), ("price", "TEXT"), ("extra", "BLOB")]),
                ("dms_audit", ["id"], [("id", "INTEGER")]),
            ]))
            #expect(first.tables == 3 && first.ignoredTables == ["dms_audit"] && first.refused.isEmpty)
            #expect(first.addedColumns.sorted() == ["customers.id", "customers.name", "customers.score", "visits.id", "visits.note"])
            #expect(try Self.columns(hq, "customers") == ["_row_key BLOB", "id TEXT", "name VARCHAR(40)", "score INTEGER", "_origin TEXT", "_changed_by TEXT", "_changed_at_ms INTEGER", "_feed_seq INTEGER"])
            #expect(try Self.columns(hq, "visits").prefix(4) == ["_row_key BLOB", "_dealer TEXT", "id INTEGER", "note TEXT"])
            #expect(try Self.columns(hq, "prices") == ["_row_key BLOB", "sku TEXT", "price REAL", "_origin TEXT", "_changed_by TEXT", "_changed_at_ms INTEGER", "_feed_seq INTEGER"], "declared columns win")

            var one = FakeDealer("DLR-1")
            let row = one.insert("customers", key: [.text("C-1")], ["name": .text("王五"), "score": .integer(3)])
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [row], sequence: 1)
            // The DMS upgrade: `ALTER TABLE customers ADD COLUMN vip_level INTEGER`, then a write.
            let grown = try await Self.put(client, hq, "DLR-1", Self.shape([
                ("customers", ["id"], [("id", "TEXT"), ("name", "VARCHAR(40)"), ("score", "INTEGER"), ("vip_level", "INTEGER")]),
            ]))
            #expect(grown.addedColumns == ["customers.vip_level"])
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [one.update(row, ["vip_level": .integer(2)])], sequence: 2)
            let shown = try await HQTablesTests.reader(hq).read { db in try Row.fetchOne(db, sql: "SELECT name, vip_level, typeof(vip_level) AS class FROM customers") }
            #expect(shown?["name"] as String? == "王五" && shown?["vip_level"] as Int64? == 2 && shown?["class"] as String? == "integer")
            #expect(try hq.store.checkTables() == ["customers": 0, "prices": 0, "visits": 0])
            // The same report again changes nothing.
            let again = try await Self.put(client, hq, "DLR-1", Self.shape([
                ("customers", ["id"], [("id", "TEXT"), ("name", "VARCHAR(40)"), ("score", "INTEGER"), ("vip_level", "INTEGER")]),
            ]))
            #expect(again.addedColumns.isEmpty && again.refused.isEmpty)
        }
    }

    @Test("rows pushed before their table or column was reported are filled in once it is; another store's different type makes only its values mismatches")
    func fillsWhatRowsCarried() async throws {
        let hq = try await HQFixture(schemaYAML: Self.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            var one = FakeDealer("DLR-1")
            // An agent older than shape reports pushed first: no table yet, the rows wait in the version store.
            let rows = (0..<2_500).map { one.insert("customers", key: [.text("C-\($0)")], ["name": .text("n\($0)"), "tier": .text("gold")]) }
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", rows, sequence: 1)
            _ = try await Self.put(client, hq, "DLR-1", Self.shape([("customers", ["id"], [("id", "TEXT"), ("name", "TEXT")])]))
            // The application's filler service may have started already; either way the fill ends exact.
            _ = try await hq.store.fillTables(chunk: 1_000)
            #expect(try await hq.store.tablesStatus()?.filling == [])
            #expect(try hq.store.checkTables()["customers"] == 0)
            // `tier` is carried by every row but not reported yet: counted as unshaped.
            let unshaped = try await HQTablesTests.reader(hq).read { db in try Int.fetchOne(db, sql: "SELECT writes FROM _dealersync_unshaped WHERE column_name = 'tier'") }
            #expect(unshaped == 2_500)
            let added = try await Self.put(client, hq, "DLR-1", Self.shape([("customers", ["id"], [("id", "TEXT"), ("name", "TEXT"), ("tier", "TEXT")])]))
            #expect(added.addedColumns == ["customers.tier"])
            _ = try await hq.store.fillTables(chunk: 1_000)
            #expect(try await HQTablesTests.reader(hq).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customers WHERE tier = 'gold'") } == 2_500)
            #expect(try hq.store.checkTables()["customers"] == 0)

            // DLR-2's DMS has `name` as INTEGER and another key: the table keeps DLR-1's.
            let other = try await Self.put(client, hq, "DLR-2", Self.shape([("customers", ["code"], [("code", "TEXT"), ("name", "INTEGER")])]))
            #expect(other.refused.map(\.column) == [nil, "name"], "\(other.refused)")
            #expect(other.refused.allSatisfy { $0.table == "customers" } && other.addedColumns == ["customers.code"])
        }
    }

    @Test("hostile reports: injected types, control characters, case twins, too many columns or tables, huge bodies, another dealer's id, past the column cap")
    func hostileReports() async throws {
        let hq = try await HQFixture(limits: HQLimits(idleTimeoutSeconds: 600, maxTableColumns: 40), schemaYAML: Self.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.live) { client in
            let before = try Self.columns(hq, "prices")
            for (table, problem) in [
                (("customers", ["id"], [("id", "TEXT); DROP TABLE rows; --")]), "not a plain SQL type"),
                (("customers", ["id"], [("id", "TEXT"), ("a\u{0}b", "TEXT")]), "control-character name"),
                (("customers", ["id"], [("id", "TEXT"), ("Name", "TEXT"), ("NAME", "TEXT")]), "repeats column 'NAME'"),
                (("customers", ["id"], [("id", "TEXT"), ("_feed_seq", "INTEGER")]), "a column HQ adds"),
                (("customers", ["nope"], [("id", "TEXT")]), "names 'nope'"),
                (("customers", [], [("id", "TEXT")]), "key is missing"),
                (("customers", ["id"], (0..<2_001).map { ("c\($0)", "TEXT") }), "has 2001 columns"),
            ] as [((String, [String], [(String, String)]), String)] {
                let outcome = try await Self.put(client, hq, "DLR-1", Self.shape([table]))
                #expect(outcome.refused.count == 1 && outcome.refused[0].reason.contains(problem), "\(outcome.refused)")
                #expect(outcome.addedColumns.isEmpty)
            }
            #expect(try await hq.store.tablesStatus()?.rows["customers"] == nil, "no refused report made a table")
            #expect(try Self.columns(hq, "prices") == before)

            let tooManyTables = Self.shape((0..<201).map { ("t\($0)", ["id"], [("id", "TEXT")]) })
            var (status, body) = try await Self.put(client, hq, "DLR-1", try tooManyTables.encoded())
            #expect(status == .badRequest && body.contains("at most 200"), "\(body)")
            (status, body) = try await Self.put(client, hq, "DLR-1", Array(#"{"tables":[{"name":"customers"}]}"#.utf8))
            #expect(status == .badRequest && body.contains("not a shape report"), "\(body)")
            (status, _) = try await Self.put(client, hq, "DLR-1", Array(repeating: UInt8(ascii: " "), count: 300 << 10))
            #expect(status == .contentTooLarge)
            (status, _) = try await Self.put(client, hq, "DLR-2", try Self.shape([("customers", ["id"], [("id", "TEXT")])]).encoded(), token: "DLR-1")
            #expect(status == .forbidden, "a dealer cannot report for another")
            (status, _) = try await Self.put(client, hq, "DLR-1", try Self.shape([("customers", ["id"], [("id", "TEXT")])]).encoded(), token: "crm")
            #expect(status == .forbidden, "a reader token cannot report shapes")

            // Two stores each add 30 columns: the table stops at limits.max_table_columns (40).
            let a = try await Self.put(client, hq, "DLR-1", Self.shape([("customers", ["id"], [("id", "TEXT")] + (0..<29).map { ("a\($0)", "TEXT") })]))
            let b = try await Self.put(client, hq, "DLR-2", Self.shape([("customers", ["id"], [("id", "TEXT")] + (0..<29).map { ("b\($0)", "TEXT") })]))
            #expect(a.addedColumns.count == 30 && b.addedColumns.count == 10)
            #expect(b.refused.count == 19 && b.refused.allSatisfy { $0.reason.contains("max_table_columns") })
            #expect(try Self.columns(hq, "customers").count == 40 + 5)
        }
    }
}
