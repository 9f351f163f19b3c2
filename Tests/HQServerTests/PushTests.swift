import Foundation
import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

@Suite("POST /v1/dealers/{id}/batches")
struct PushTests {
    @Test("a pushed row is stored, acknowledged with a receipt, and not echoed back")
    func pushAndNoEcho() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        var dealer = FakeDealer("DLR-1")
        let row = dealer.insert("customers", key: [.text("C-1")], ["name": .text("Ada"), "visits": .integer(3)])
        let node = dealer.node
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let response = try await client.push(
                "DLR-1", PushRequest(batch: Batch(dealer: node, schemaVersion: 3, firstSequence: 1, lastSequence: 1, rows: [row]), token: hq.tokens["DLR-1"]!))
            #expect(response.status == .ok)
            let answer = try receipt(response)
            #expect(answer.batch == "DLR-1:1-1")
            #expect(answer.applied == 1)
            #expect(answer.feedSequence == 1)
            let (own, _) = try await client.pull("DLR-1", token: hq.tokens["DLR-1"]!)
            #expect(own.rows.isEmpty, "a dealer's own unchanged write is not echoed")
            let (other, _) = try await client.pull("DLR-2", token: hq.tokens["DLR-2"]!)
            #expect(other.rows.isEmpty, "a row nobody routed to DLR-2 stays away from it")
        }
    }

    @Test("replaying an acknowledged batch returns the same answer and changes nothing")
    func replay() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        var dealer = FakeDealer("DLR-1")
        let rows = [dealer.insert("customers", key: [.text("C-1")], ["name": .text("Ada")])]
        let request = PushRequest(batch: Batch(dealer: dealer.node, schemaVersion: 3, firstSequence: 1, lastSequence: 4, rows: rows), token: hq.tokens["DLR-1"]!)
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let first = try await client.push("DLR-1", request)
            #expect(first.status == .ok)
            let digest = try await hq.store.contentDigest()
            let second = try await client.push("DLR-1", request)
            #expect(second.status == .ok)
            #expect(Array(second.body.readableBytesView) == Array(first.body.readableBytesView))
            #expect(try await hq.store.contentDigest() == digest)
        }
    }

    @Test("the same batch id with other bytes is 409 and changes nothing")
    func sameIDOtherBytes() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        var dealer = FakeDealer("DLR-1")
        let first = dealer.insert("customers", key: [.text("C-1")], ["name": .text("Ada")])
        let other = dealer.insert("customers", key: [.text("C-2")], ["name": .text("Bob")])
        let node = dealer.node
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let token = hq.tokens["DLR-1"]!
            #expect(try await client.push("DLR-1", PushRequest(batch: Batch(dealer: node, schemaVersion: 3, firstSequence: 1, lastSequence: 2, rows: [first]), token: token)).status == .ok)
            let digest = try await hq.store.contentDigest()
            let response = try await client.push(
                "DLR-1", PushRequest(batch: Batch(dealer: node, schemaVersion: 3, firstSequence: 1, lastSequence: 2, rows: [other]), token: token))
            #expect(response.status == .conflict)
            #expect(try errorBody(response).error.contains("DLR-1:1-2"))
            #expect(try await hq.store.contentDigest() == digest)
        }
    }

    @Test("a bad row goes to the dead-letter table with its reason; the rest of the batch applies")
    func deadLetters() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        var dealer = FakeDealer("DLR-1")
        let rows = [
            dealer.insert("customers", key: [.text("C-1")], ["name": .text("Ada")]),
            dealer.insert("no_such_table", key: [.text("X")], ["a": .integer(1)]),
            dealer.insert("prices", key: [.text("P-1")], ["amount": .real(9.5)]),
            dealer.insert("leads", key: [.text("L-1")], ["assigned_dealer": .integer(7)]),
            dealer.insert("customers", key: [.text("C-2")], ["name": .text("Bob")]),
            {
                // A PC whose clock is a year fast.
                var fast = FakeDealer("DLR-1")
                fast.counter = 100
                fast.hlc = UInt64(Date().timeIntervalSince1970 * 1000 + 365 * 86_400_000) << 16
                return fast.insert("customers", key: [.text("C-3")], ["name": .text("Cy")])
            }(),
        ]
        let node = dealer.node
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let response = try await client.push(
                "DLR-1", PushRequest(batch: Batch(dealer: node, schemaVersion: 3, firstSequence: 1, lastSequence: 6, rows: rows), token: hq.tokens["DLR-1"]!))
            #expect(response.status == .ok)
            let answer = try receipt(response)
            #expect(answer.applied == 2)
            #expect(answer.deadLetters == 4)
            let reasons = try await hq.store.deadLetterReasons()
            #expect(reasons.count == 4)
            #expect(reasons[3].contains("ms ahead of HQ's clock"))
            #expect(reasons[0].contains("'no_such_table' is not in the sync schema"))
            #expect(reasons[1].contains("direction down"))
            #expect(reasons[2].contains("routing column 'assigned_dealer' holds INTEGER"))
            #expect(try await hq.store.count("rows") == 2)
        }
    }

    @Test("an up row is stored under the dealer id plus its local key")
    func upRowsKeyedByDealer() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        var one = FakeDealer("DLR-1")
        var two = FakeDealer("DLR-2")
        let visits = [(one.insert("visits", key: [.integer(1)], ["note": .text("a")]), "DLR-1"), (two.insert("visits", key: [.integer(1)], ["note": .text("b")]), "DLR-2")]
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            for (dealer, id) in visits {
                let response = try await client.push(
                    id, PushRequest(batch: Batch(dealer: try NodeID(id), schemaVersion: 3, firstSequence: 1, lastSequence: 1, rows: [dealer]), token: hq.tokens[id]!))
                #expect(response.status == .ok)
            }
            #expect(try await hq.store.count("rows") == 2, "rowid 1 of two dealers are two rows at HQ")
            let feed = try await client.execute(uri: "/v1/feed", method: .get, headers: hq.bearer("crm"))
            let page = try JSONDecoder().decode(FeedPageJSON.self, from: Data(feed.body.readableBytesView))
            #expect(page.changes.map(\.key) == [[.init(.text("DLR-1")), .init(.integer(1))], [.init(.text("DLR-2")), .init(.integer(1))]])
            let (pulled, _) = try await client.pull("DLR-1", token: hq.tokens["DLR-1"]!)
            #expect(pulled.rows.isEmpty, "up rows never travel down")
        }
    }
}

/// The feed page as a client decodes it.
struct FeedPageJSON: Decodable {
    struct Change: Decodable {
        var seq: UInt64
        var table: String
        var key: [TypedValue]
        var deleted: Bool
        var values: [String: TypedValue]
        var source: String
    }
    var changes: [Change]
    var next_cursor: String
}
