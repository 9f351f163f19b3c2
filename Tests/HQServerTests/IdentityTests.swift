import Foundation
import GRDB
@testable import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// One customer across stores at HQ (docs/IDENTITY.md): links as rows merge, the golden
/// record, splits and manual links, and who may look a customer up.
@Suite("Customer identity at HQ")
struct IdentityTests {
    static let schema = """
        version: 3
        tables:
          - name: customers
            direction: both
            routing_column: home_dealer
            owners: {customer_class: hq}
            key: [id]
            columns:
              - id: TEXT
              - name: TEXT
              - mobile: TEXT
              - id_number: TEXT
              - birth_date: TEXT
              - home_dealer: TEXT
              - customer_class: TEXT
          - name: vehicles
            direction: both
            key: [vin]
            columns:
              - vin: TEXT
              - customer_id: TEXT
              - model: TEXT
          - name: service_orders
            direction: both
            key: [id]
            columns:
              - id: TEXT
              - vin: TEXT
              - status: TEXT
        identity:
          people: {table: customers, mobile: mobile, id_number: id_number, name: name, birth_date: birth_date}
          vehicles: {table: vehicles, vin: vin, owner: customer_id}
          history:
            - {table: service_orders, vehicle: vin}
          counter:
            customers: [name, customer_class]
            vehicles: [vin, model]
            service_orders: [status]
          lookups_per_hour: 3
        """

    static let vin = "LSVAU218XN2183294"  // a valid check digit

    /// A customer row of `dealer`, keyed `id`.
    static func customer(_ dealer: inout FakeDealer, _ id: String, _ values: [String: String]) -> RowVersion {
        var row: [String: SQLValue] = ["home_dealer": .text(dealer.node.rawValue)]
        for (column, value) in values { row[column] = .text(value) }
        return dealer.insert("customers", key: [.text(id)], row)
    }

    /// Links everything merged so far; returns each record's person, by key.
    static func link(_ hq: HQFixture) async throws -> [String: String] {
        while try await hq.store.linkIdentities(chunk: 7) > 0 {}
        return try await HQTablesTests.reader(hq).read { db in
            var persons: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key_json, person_id FROM _dealersync_identity_records") {
                let key = try JSONDecoder().decode([TypedValue].self, from: Data((row["key_json"] as String).utf8))
                if case .text(let id) = key[0].value { persons[id] = row["person_id"] }
            }
            return persons
        }
    }

    static func json<T: Decodable>(_ response: TestResponse, as: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(response.body.readableBytesView))
    }

    @Test("records link by ID number, by mobile with a compatible name and by vehicle ownership; never through placeholders, shared numbers or contradicting IDs")
    func rules() async throws {
        let hq = try await HQFixture(schemaYAML: Self.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            var one = FakeDealer("DLR-1"), two = FakeDealer("DLR-2"), three = FakeDealer("DLR-3")
            three.hlc += 1_000 << 16  // DLR-3's edits are the latest
            let id = "110105198502281234".prefix(17) + String(ResidentIDCheck.character(String("110105198502281234".prefix(17)))!)
            let soldAtOne = one.insert("vehicles", key: [.text(Self.vin)], ["customer_id": .text("V1"), "model": .text("朗逸")])
            let idX = "11010519900101123" + String(ResidentIDCheck.character("11010519900101123")!)
            let otherID = "11010519900101125" + String(ResidentIDCheck.character("11010519900101125")!)
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [
                Self.customer(&one, "A1", ["name": "王小明", "mobile": "139 5729 0318", "birth_date": "1985-02-28"]),
                Self.customer(&one, "B1", ["name": "李娜", "id_number": String(id).lowercased()]),
                Self.customer(&one, "F1", ["name": "赵敏", "mobile": "13800138000"]),
                Self.customer(&one, "S1", ["name": "孙强", "mobile": "13711112222"]),
                Self.customer(&one, "X1", ["name": "周杰", "mobile": "13655556666", "id_number": idX]),
                Self.customer(&one, "V1", ["name": "张伟", "mobile": "13533334444"]),
                soldAtOne,
            ], sequence: 1)
            _ = try await HostileDealerTests.push(client, hq, "DLR-2", [
                Self.customer(&two, "A2", ["name": "王 小明", "mobile": "+86 139-5729-0318"]),
                Self.customer(&two, "B2", ["name": "李 娜", "id_number": String(String(id).prefix(6) + String(id).dropFirst(8).prefix(9))]),
                Self.customer(&two, "F2", ["name": "赵敏", "mobile": "13800138000"]),
                Self.customer(&two, "S2", ["name": "钱芳", "mobile": "13711112222"]),
                Self.customer(&two, "X2", ["name": "周杰", "mobile": "13655556666", "id_number": otherID]),
                Self.customer(&two, "V2", ["name": "张伟"]),
            ], sequence: 1)
            _ = try await HostileDealerTests.push(client, hq, "DLR-3", [
                Self.customer(&three, "A3", ["name": "王晓明", "mobile": "0086 13957290318"]),
                Self.customer(&three, "S3", ["name": "吴磊", "mobile": "13711112222"]),
            ], sequence: 1)
            var persons = try await Self.link(hq)
            #expect(persons["A1"] == persons["A2"] && persons["A2"] == persons["A3"], "mobile with the same name, and with one mistyped character")
            #expect(persons["B1"] == persons["B2"], "the same ID number, once in its old 15-digit form")
            #expect(persons["F1"] != persons["F2"], "never on a placeholder mobile")
            #expect(Set([persons["S1"], persons["S2"], persons["S3"]]).count == 3, "a number held by three names is shared")
            #expect(persons["X1"] != persons["X2"], "different ID numbers are different people whatever else matches")
            #expect(persons["V1"] != persons["V2"])
            // HQ lets DLR-2 hold the car (it came in for service there); DLR-2 records its own
            // customer record as the owner.
            let share = try await client.execute(
                uri: "/v1/hq/shares", method: .post, headers: hq.bearer("hq-crm"),
                body: ByteBuffer(string: #"{"table": "vehicles", "key": ["\#(Self.vin)"], "dealer": "DLR-2"}"#))
            #expect(share.status == .ok)
            two.hlc += 2_000 << 16
            let vehicle = two.update(soldAtOne, ["customer_id": .text("V2")])
            _ = try await HostileDealerTests.push(client, hq, "DLR-2", [vehicle], sequence: 2)
            persons = try await Self.link(hq)
            #expect(persons["V1"] == persons["V2"], "two owners of one VIN with the same name")

            // The golden record: the latest valid value, the mobile normalised, one responsible store.
            let response = try await client.execute(uri: "/v1/customers/\(persons["A1"]!)", method: .get, headers: hq.bearer("crm"))
            #expect(response.status == .ok)
            let customer = try Self.json(response, as: CustomerHistory.self)
            #expect(customer.records.map(\.dealer).sorted() == ["DLR-1", "DLR-2", "DLR-3"])
            #expect(customer.golden["mobile"]?.value == .text("13957290318"))
            #expect(customer.golden["name"]?.value == .text("王晓明"), "the latest valid name (DLR-3 pushed last)")
            #expect(customer.golden["birth_date"]?.value == .text("1985-02-28"), "the only valid birth date survives")
            #expect(customer.responsibleDealer == "DLR-3", "the store that dealt with the customer last")
            #expect(customer.links.map(\.rule).allSatisfy { $0 == "mobile_name" } && customer.links.count >= 2)
            let vehicleOwner = try Self.json(
                try await client.execute(uri: "/v1/customers/\(persons["V1"]!)", method: .get, headers: hq.bearer("crm")), as: CustomerHistory.self)
            #expect(vehicleOwner.vehicles.map(\.key) == [[TypedValue(.text(Self.vin))]])
            // The golden table is plain SQL for HQ's tools.
            let a1Person = persons["A1"]!
            let golden = try await HQTablesTests.reader(hq).read { db in
                try Int.fetchOne(db, sql: "SELECT records FROM customers_golden WHERE global_id = ?", arguments: [a1Person])
            }
            #expect(golden == 3)
            let status = try #require(try await hq.store.identityStatus())
            #expect(status.pendingRows == 0 && status.linkedSequence == status.latestSequence)
            #expect(status.links["id_number"] == 1 && status.links["vehicle_owner"] == 1)
        }
    }

    @Test("a split is remembered through later changes; a manual link joins two records; both need a writer token")
    func splitAndManual() async throws {
        let hq = try await HQFixture(schemaYAML: Self.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            var one = FakeDealer("DLR-1"), two = FakeDealer("DLR-2")
            let a1 = Self.customer(&one, "A1", ["name": "王小明", "mobile": "13957290318"])
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [a1, Self.customer(&one, "M1", ["name": "陈静"])], sequence: 1)
            var a2 = Self.customer(&two, "A2", ["name": "王小明", "mobile": "13957290318"])
            _ = try await HostileDealerTests.push(client, hq, "DLR-2", [a2, Self.customer(&two, "M2", ["name": "陈晶"])], sequence: 1)
            var persons = try await Self.link(hq)
            #expect(persons["A1"] == persons["A2"])
            #expect(persons["M1"] != persons["M2"])
            func change(_ kind: String, _ a: String, _ b: String, token: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/v1/hq/identity/\(kind)", method: .post, headers: hq.bearer(token),
                    body: ByteBuffer(string: #"{"a": ["\#(a)"], "b": ["\#(b)"]}"#))
            }
            #expect(try await change("splits", "A1", "A2", token: "crm").status == .forbidden, "a reader cannot split")
            #expect(try await change("splits", "A1", "A2", token: "DLR-1").status == .forbidden)
            #expect(try await change("splits", "A1", "NOPE", token: "hq-crm").status == .notFound)
            let split = try await change("splits", "A1", "A2", token: "hq-crm")
            #expect(split.status == .ok)
            let ids = try Self.json(split, as: [String: String].self)
            #expect(ids["a"] != ids["b"])
            a2 = two.update(a2, ["name": .text("王小明 ")])
            _ = try await HostileDealerTests.push(client, hq, "DLR-2", [a2], sequence: 2)
            persons = try await Self.link(hq)
            #expect(persons["A1"] != persons["A2"], "the rules do not undo a split")
            #expect(try await change("links", "M1", "M2", token: "hq-crm").status == .ok)
            persons = try await Self.link(hq)
            #expect(persons["M1"] == persons["M2"])
            let customer = try Self.json(
                try await client.execute(uri: "/v1/customers/\(persons["M1"]!)", method: .get, headers: hq.bearer("crm")), as: CustomerHistory.self)
            #expect(customer.links.map(\.madeBy) == ["hq-crm"] && customer.links.map(\.rule) == ["manual"])
        }
    }

    @Test("lookups: readers find and read customers, every lookup recorded; a store at the counter sees only the permitted columns of other stores' records, within its hourly limit")
    func lookups() async throws {
        let hq = try await HQFixture(schemaYAML: Self.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            var one = FakeDealer("DLR-1"), two = FakeDealer("DLR-2")
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [
                Self.customer(&one, "A1", ["name": "王小明", "mobile": "13957290318", "customer_class": "VIP"]),
                one.insert("vehicles", key: [.text(Self.vin)], ["customer_id": .text("A1"), "model": .text("朗逸")]),
                one.insert("service_orders", key: [.text("SO-1")], ["vin": .text(Self.vin), "status": .text("done")]),
            ], sequence: 1)
            _ = try await HostileDealerTests.push(client, hq, "DLR-2", [Self.customer(&two, "A2", ["name": "王小明", "mobile": "13957290318"])], sequence: 1)
            let persons = try await Self.link(hq)

            let search = try await client.execute(uri: "/v1/customers?mobile=%2B86%20139-5729-0318", method: .get, headers: hq.bearer("crm"))
            #expect(search.status == .ok)
            let found = try Self.json(search, as: CustomerController<SQLiteSyncStore>.Found.self).customers
            #expect(found.map(\.id) == [persons["A1"]!] && found.first?.history.map(\.table) == ["service_orders"])
            #expect(try await client.execute(uri: "/v1/customers?vin=\(Self.vin)", method: .get, headers: hq.bearer("crm")).status == .ok)
            #expect(try await client.execute(uri: "/v1/customers?mobile=13957290318", method: .get, headers: hq.bearer("DLR-1")).status == .forbidden,
                    "a dealer token cannot search HQ's customers")
            #expect(try await client.execute(uri: "/v1/customers?mobile=13800138000", method: .get, headers: hq.bearer("crm")).status == .badRequest,
                    "a placeholder identifies nobody")
            #expect(try await client.execute(uri: "/v1/customers?mobile=13957290318&vin=\(Self.vin)", method: .get, headers: hq.bearer("crm")).status == .badRequest)
            #expect(try await client.execute(uri: "/v1/customers/GC-9999999999", method: .get, headers: hq.bearer("crm")).status == .notFound)

            // At the counter of a third store.
            func counter(_ body: String, as dealer: String = "DLR-3", path: String = "DLR-3") async throws -> TestResponse {
                try await client.execute(uri: "/v1/dealers/\(path)/lookups", method: .post, headers: hq.bearer(dealer), body: ByteBuffer(string: body))
            }
            #expect(try await counter(#"{"mobile": "13957290318"}"#, as: "DLR-3", path: "DLR-1").status == .forbidden, "only as itself")
            let answer = try await counter(#"{"mobile": "139 5729 0318"}"#)
            #expect(answer.status == .ok)
            let seen = try #require(try Self.json(answer, as: CustomerController<SQLiteSyncStore>.Found.self).customers.first)
            #expect(seen.records.count == 2 && seen.golden.isEmpty && seen.links.isEmpty)
            #expect(seen.records.allSatisfy { Set($0.values.keys).isSubset(of: ["name", "customer_class"]) }, "\(seen.records)")
            #expect(seen.vehicles.first?.values.keys.sorted() == ["model", "vin"] && seen.history.first?.values.keys.sorted() == ["status"])
            let raw = String(decoding: answer.body.readableBytesView, as: UTF8.self)
            #expect(!raw.contains("13957290318"), "the mobile is not a permitted column")
            // DLR-1 asking sees DLR-2's record only: it has its own.
            let own = try await counter(#"{"mobile": "13957290318"}"#, as: "DLR-1", path: "DLR-1")
            #expect(try Self.json(own, as: CustomerController<SQLiteSyncStore>.Found.self).customers.first?.records.map(\.dealer) == ["DLR-2"])
            #expect(try await counter(#"{"mobile": "13957290318", "sql": "1"}"#).status == .badRequest)
            #expect(try await counter(#"{"vin": "\#(Self.vin)"}"#).status == .ok)
            #expect(try await counter(#"{"id_number": "110105198502281234"}"#).status == .badRequest, "a wrong check character")
            #expect(try await counter(#"{"mobile": "13957290318"}"#).status == .ok)
            let limited = try await counter(#"{"mobile": "13957290318"}"#)
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil, "lookups_per_hour: 3")

            let log = try await hq.store.lookupLog(limit: 100)
            #expect(log.filter { $0.who == "crm" }.map(\.queryKind).sorted() == ["id", "mobile", "vin"])
            #expect(log.filter { $0.who == "DLR-3" }.count == 3 && log.filter { $0.who == "DLR-1" }.count == 1)
            #expect(log.first { $0.who == "DLR-3" }?.person == persons["A1"])
            // The same reads in the access records (docs/PRIVACY.md), with the tables they return.
            let access = try await hq.store.accessLog(sinceMillis: 0, who: nil, limit: 100)
            #expect(access.filter { $0.who == "crm" && $0.kind == .customer }.count == log.filter { $0.who == "crm" }.count)
            #expect(access.filter { $0.kind == .counter }.count == log.filter { $0.kind == "dealer" }.count)
            #expect(access.first { $0.who == "crm" }?.tables == ["customers", "service_orders", "vehicles"])
        }
    }
}

extension IdentityTests {
    @Test("a hostile store typing one customer's ID number and mobile into hundreds of records makes them nobody's, and cannot reach the real person")
    func hostileStore() async throws {
        let hq = try await HQFixture(schemaYAML: Self.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            var one = FakeDealer("DLR-1"), two = FakeDealer("DLR-2"), hostile = FakeDealer("DLR-3")
            let id = "11010519850228123" + String(ResidentIDCheck.character("11010519850228123")!)
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [Self.customer(&one, "REAL-1", ["name": "王小明", "mobile": "13957290318", "id_number": id])], sequence: 1)
            _ = try await HostileDealerTests.push(client, hq, "DLR-2", [Self.customer(&two, "REAL-2", ["name": "王小明", "id_number": id])], sequence: 1)
            let copies = (0..<300).map { Self.customer(&hostile, "FAKE-\($0)", ["name": "王小明", "mobile": "13957290318", "id_number": id]) }
            _ = try await HostileDealerTests.push(client, hq, "DLR-3", copies, sequence: 1)
            let persons = try await Self.link(hq)
            #expect(persons.count == 302)
            let fakePeople = Set(copies.indices.map { persons["FAKE-\($0)"] })
            #expect(!fakePeople.contains(persons["REAL-1"]), "the real customer is not merged with the hostile copies")
            let status = try #require(try await hq.store.identityStatus())
            #expect(status.peopleAtSeveralStores <= 1, "\(status)")
        }
    }
}
