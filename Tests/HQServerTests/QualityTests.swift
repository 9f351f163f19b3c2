import Foundation
import GRDB
@testable import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// Data quality at HQ (docs/QUALITY.md): issues kept as rows merge, scores per dealer and
/// field, and each store's own list of records to fix.
@Suite("Data quality at HQ")
struct QualityTests {
    static let schema = """
        version: 3
        tables:
          - name: customers
            direction: both
            routing_column: home_dealer
            quality:
              - column: mobile
                required: true
                format: mobile
                shared_limit: 3
                description: the customer's own mobile
              - column: id_number
                format: resident_id
                birth_date_column: birth_date
                gender_column: gender
              - column: birth_date
                format: date
                min: "1900-01-02"
                max: today
        """

    static func get<T: Decodable>(_ client: some TestClientProtocol, _ hq: HQFixture, _ uri: String, as token: String) async throws -> (HTTPResponse.Status, T?) {
        let response = try await client.execute(uri: uri, method: .get, headers: hq.bearer(token))
        return (response.status, try? JSONDecoder().decode(T.self, from: Data(response.body.readableBytesView)))
    }

    static func issues(_ hq: HQFixture) throws -> [String] {
        try HQTablesTests.reader(hq).read { db in
            try Row.fetchAll(db, sql: "SELECT dealer, key_json, column_name, rule FROM _dealersync_quality_issues ORDER BY 2, 3").map {
                "\($0["dealer"] as String) \($0["key_json"] as String) \($0["column_name"] as String) \($0["rule"] as String)"
            }
        }
    }

    static func key(_ id: String) -> String { #"[{"type":"text","value":"\#(id)"}]"# }

    @Test("an issue opens when a value breaks a rule and closes when it is fixed; placeholders, missing values and ID contradictions are found")
    func incremental() async throws {
        let hq = try await HQFixture(schemaYAML: Self.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            var one = FakeDealer("DLR-1")
            // 11010519900307001? with its check character: born 1990-03-07, male (17th digit 1... odd).
            let first17 = "11010519900307001"
            let idNumber = first17 + String(try #require(ResidentIDCheck.character(first17)))
            var row = one.insert("customers", key: [.text("C-1")], ["mobile": .text("139 5729 0318"), "home_dealer": .text("DLR-1"),
                                                                   "id_number": .text(idNumber), "birth_date": .text("1990-03-07"), "gender": .text("男")])
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [row], sequence: 1)
            #expect(try Self.issues(hq) == [], "a clean row has no issues")
            row = one.update(row, ["mobile": .text("13800138000"), "birth_date": .text("1990-03-08")])
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [row], sequence: 2)
            #expect(try Self.issues(hq) == ["DLR-1 \(Self.key("C-1")) id_number contradicts", "DLR-1 \(Self.key("C-1")) mobile placeholder"])
            row = one.update(row, ["mobile": .null, "birth_date": .text("1990-03-07"), "gender": .text("女")])
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [row], sequence: 3)
            #expect(try Self.issues(hq) == ["DLR-1 \(Self.key("C-1")) id_number contradicts", "DLR-1 \(Self.key("C-1")) mobile missing"])
            row = one.update(row, ["mobile": .text("+86 139-5729-0318"), "gender": .text("男"), "birth_date": .text("2999-01-01")])
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [row], sequence: 4)
            #expect(try Self.issues(hq) == ["DLR-1 \(Self.key("C-1")) birth_date range", "DLR-1 \(Self.key("C-1")) id_number contradicts"])
            row = one.update(row, ["birth_date": .text("1990-03-07")])
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [row], sequence: 5)
            #expect(try Self.issues(hq) == [], "fixed values close their issues at the next merge")
            row = one.update(row, ["mobile": .text("12")])
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [row], sequence: 6)
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [one.delete(row)], sequence: 7)
            #expect(try Self.issues(hq) == [], "a deleted row's issues go with it")
        }
    }

    @Test("a mobile shared by more customers than the limit is flagged across stores; each store sees only its own rows' issues; scores per dealer and field")
    func sharedAcrossStoresAndScopes() async throws {
        let hq = try await HQFixture(schemaYAML: Self.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            var one = FakeDealer("DLR-1")
            var two = FakeDealer("DLR-2")
            // Shared values are counted in the SQL table, learned from the stores' shapes.
            _ = try await ShapeTests.put(client, hq, "DLR-1", ShapeReport(tables: [ShapeReport.Table(
                name: "customers", key: ["id"], columns: ["id", "mobile", "home_dealer", "id_number", "birth_date", "gender"].map { ShapeReport.Column(name: $0, type: "TEXT") })]))
            // The store's own number typed for two customers at DLR-1 and two at DLR-2 (4 > 3).
            let shared = "13957290001"
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", (1...2).map {
                one.insert("customers", key: [.text("A-\($0)")], ["mobile": .text(shared), "home_dealer": .text("DLR-1")])
            } + [one.insert("customers", key: [.text("A-3")], ["mobile": .text("12345"), "home_dealer": .text("DLR-1")])], sequence: 1)
            _ = try await HostileDealerTests.push(client, hq, "DLR-2", (1...2).map {
                two.insert("customers", key: [.text("B-\($0)")], ["mobile": .text(shared), "home_dealer": .text("DLR-2")])
            } + [two.insert("customers", key: [.text("B-3")], ["mobile": .text("13957290002"), "home_dealer": .text("DLR-2")])], sequence: 1)

            let (status, own): (HTTPResponse.Status, StoreQuality?) = try await Self.get(client, hq, "/v1/dealers/DLR-1/quality", as: "DLR-1")
            #expect(status == .ok)
            let listed = (own?.issues ?? []).map { "\($0.key.first.map { "\($0.value)" } ?? "") \($0.column) \($0.rule)" }
            #expect(own?.issues.map(\.rule).sorted() == ["format", "shared", "shared"], "\(listed)")
            let keys = Set((own?.issues ?? []).compactMap { issue -> String? in if case .text(let id)? = issue.key.first?.value { id } else { nil } })
            #expect(keys == ["A-1", "A-2", "A-3"], "only DLR-1's own rows")
            #expect(own?.issues.allSatisfy { !$0.hint.contains(shared) && !$0.hint.contains("12345") } == true, "hints never carry values")
            let (forbidden, _): (HTTPResponse.Status, StoreQuality?) = try await Self.get(client, hq, "/v1/dealers/DLR-2/quality", as: "DLR-1")
            #expect(forbidden == .forbidden, "a store cannot read another store's issues")
            let (dealerOnFleet, _): (HTTPResponse.Status, QualityReport?) = try await Self.get(client, hq, "/v1/quality", as: "DLR-1")
            #expect(dealerOnFleet == .forbidden, "the fleet report needs a reader token")

            let (_, fleet): (HTTPResponse.Status, QualityReport?) = try await Self.get(client, hq, "/v1/quality", as: "crm")
            let mobile = { (dealer: String) in fleet?.dealers.first { $0.dealer == dealer }?.fields.first { $0.column == "mobile" } }
            #expect(mobile("DLR-1")?.shared == 2 && mobile("DLR-1")?.invalid == 1 && mobile("DLR-1")?.rows == 3)
            #expect(mobile("DLR-2")?.shared == 2 && mobile("DLR-2")?.invalid == 0)
            #expect(abs((mobile("DLR-2")?.validShare ?? 0) - 1.0 / 3.0) < 1e-9)
            #expect(mobile("DLR-1")?.description == "the customer's own mobile")
            let score = fleet?.dealers.first { $0.dealer == "DLR-1" }?.score ?? 1
            #expect(score < 1 && score > 0)

            #expect(try await hq.store.recordQualitySnapshot(schema: hq.config.schema, day: "2026-12-01") > 0, "yesterday's snapshot")
            // One corrected record drops the shared count under the limit: no shared issues left.
            let fixed = one.update(try #require(try await hq.store.rowVersion(table: "customers", key: RowKey([.text("A-1")]), dealer: one.node, schema: hq.config.schema)), ["mobile": .text("13700000001")])
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [fixed], sequence: 2)
            let (_, after): (HTTPResponse.Status, StoreQuality?) = try await Self.get(client, hq, "/v1/dealers/DLR-2/quality", as: "DLR-2")
            #expect(after?.issues.isEmpty == true, "\(String(describing: after?.issues))")
            // Daily snapshots make the trend: yesterday's (before the fix) and today's.
            #expect(try await hq.store.recordQualitySnapshot(schema: hq.config.schema, day: "2026-12-02") > 0)
            let (_, trended): (HTTPResponse.Status, QualityReport?) = try await Self.get(client, hq, "/v1/quality?dealer=DLR-2", as: "crm")
            let trend = trended?.dealers.first?.trend ?? []
            #expect(trend.map(\.day) == ["2026-12-01", "2026-12-02"])
            #expect(trend.count == 2 && trend[0].score < trend[1].score && trend[1].score == trended?.dealers.first?.score, "\(trend)")
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            let text = String(decoding: metrics.body.readableBytesView, as: UTF8.self)
            #expect(text.contains(#"dealersync_quality_score{dealer="DLR-1"}"#) && text.contains(#"dealersync_quality_score{dealer="DLR-2"}"#), "\(text.prefix(2000))")
        }
    }

    @Test("today's date for `max: today` agrees with a UTC DateFormatter, leap days and century years included")
    func todayIsCalendarCorrect() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        for seconds in [0.0, 951_782_400, 951_868_799, 1_709_164_800, 1_796_256_000, 4_107_542_400, 1_234_567_890.5] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(QualityWriter.today(date) == formatter.string(from: date), "\(seconds)")
        }
    }
}

/// GB 11643 check character, computed here so the test does not trust the code under test.
enum ResidentIDCheck {
    static func character(_ first17: String) -> Character? {
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let digits = first17.compactMap(\.wholeNumberValue)
        guard digits.count == 17 else { return nil }
        return Array("10X98765432")[zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 } % 11]
    }
}
