import Foundation
import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

@Suite("routing: GET /v1/dealers/{id}/changes")
struct RoutingTests {
    @Test("a lead routed to one dealer reaches it and no other; broadcast rows reach all; holders follow the row")
    func routing() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let writer = hq.tokens["hq-crm"]!
            #expect(try await client.hqWrite(#"{"table":"leads","key":["L-1"],"values":{"assigned_dealer":"DLR-1","score":{"type":"integer","value":90}}}"#, token: writer).status == .ok)
            #expect(try await client.hqWrite(#"{"table":"prices","key":["P-1"],"values":{"amount":{"type":"real","value":19990.0}}}"#, token: writer).status == .ok)

            let (one, cursor1) = try await client.pull("DLR-1", token: hq.tokens["DLR-1"]!)
            #expect(one.dealer == .hq)
            #expect(one.rows.map(\.table) == ["leads", "prices"])
            #expect(one.firstSequence == 1 && one.lastSequence == 2)
            #expect(one.rows[0].values(policy: .lastWriterWins)["assigned_dealer"] == .text("DLR-1"))
            let (two, cursor2) = try await client.pull("DLR-2", token: hq.tokens["DLR-2"]!)
            #expect(two.rows.map(\.table) == ["prices"], "the lead for DLR-1 never reaches DLR-2")

            // DLR-1 works the lead; its own write is not echoed back to it.
            var dealer1 = FakeDealer("DLR-1")
            let worked = dealer1.update(one.rows[0], ["status": .text("contacted")])
            let pushed = try await client.push(
                "DLR-1", PushRequest(batch: Batch(dealer: dealer1.node, schemaVersion: 3, firstSequence: 1, lastSequence: 1, rows: [worked]), token: hq.tokens["DLR-1"]!))
            #expect(pushed.status == .ok)
            let (echo, cursor1b) = try await client.pull("DLR-1", token: hq.tokens["DLR-1"]!, after: cursor1)
            #expect(echo.rows.isEmpty)
            #expect(try await client.pull("DLR-2", token: hq.tokens["DLR-2"]!, after: cursor2).0.rows.isEmpty)

            // HQ reassigns the lead: the new dealer gets it, and so does DLR-1, which holds it.
            #expect(try await client.hqWrite(#"{"table":"leads","key":["L-1"],"values":{"assigned_dealer":"DLR-2"}}"#, token: writer).status == .ok)
            let (moved, _) = try await client.pull("DLR-2", token: hq.tokens["DLR-2"]!, after: cursor2)
            #expect(moved.rows.count == 1)
            #expect(moved.rows.first?.values(policy: .lastWriterWins)["status"] == .text("contacted"))
            let (held, _) = try await client.pull("DLR-1", token: hq.tokens["DLR-1"]!, after: cursor1b)
            #expect(held.rows.first?.values(policy: .lastWriterWins)["assigned_dealer"] == .text("DLR-2"))
            #expect(try await client.pull("DLR-3", token: hq.tokens["DLR-3"]!).0.rows.map(\.table) == ["prices"])
        }
    }

    @Test("pages follow the cursor without gaps or repeats")
    func paging() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            for index in 0..<7 {
                #expect(try await client.hqWrite(#"{"table":"prices","key":["P-\#(index)"],"values":{"n":\#(index)}}"#, token: hq.tokens["hq-crm"]!).status == .ok)
            }
            var cursor: String? = nil
            var seen: [RowKey] = []
            for _ in 0..<5 {
                let response = try await client.execute(
                    uri: "/v1/dealers/DLR-1/changes?limit=3" + (cursor.map { "&after=\($0)" } ?? ""), method: .get, headers: hq.bearer("DLR-1"))
                #expect(response.headers[.dealersyncServerTime].flatMap { Int64($0) } != nil)
                let batch = try Batch(decoding: Gzip.decompress(Array(response.body.readableBytesView), maxOutputBytes: 1 << 20))
                seen += batch.rows.map(\.key)
                cursor = response.headers[.dealersyncCursor]
            }
            #expect(seen == (0..<7).map { RowKey([.text("P-\($0)")]) })
            let bad = try await client.execute(uri: "/v1/dealers/DLR-1/changes?after=42", method: .get, headers: hq.bearer("DLR-1"))
            #expect(bad.status == .badRequest)
        }
    }

    @Test("a long poll returns as soon as a routed change commits")
    func longPoll() async throws {
        let hq = try await HQFixture(limits: HQLimits(maxWaitSeconds: 120, idleTimeoutSeconds: 600))
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let (_, cursor) = try await client.pull("DLR-1", token: hq.tokens["DLR-1"]!)
            let started = ContinuousClock.now
            // Woken by the commit, the poll answers long before its 120 s are up (a busy CI
            // machine may take seconds, never minutes); woken by the timeout it would take 120.
            async let waited = client.pull("DLR-1", token: hq.tokens["DLR-1"]!, after: cursor, extra: "&wait=120")
            #expect(try await client.hqWrite(#"{"table":"leads","key":["L-9"],"values":{"assigned_dealer":"DLR-1"}}"#, token: hq.tokens["hq-crm"]!).status == .ok)
            let (batch, _) = try await waited
            #expect(batch.rows.map(\.key) == [RowKey([.text("L-9")])])
            #expect(ContinuousClock.now - started < .seconds(60))
        }
    }

    @Test("another dealer's token cannot pull: 403; no token: 401")
    func pullAuth() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let other = try await client.execute(uri: "/v1/dealers/DLR-1/changes", method: .get, headers: hq.bearer("DLR-2"))
            #expect(other.status == .forbidden)
            let anonymous = try await client.execute(uri: "/v1/dealers/DLR-1/changes", method: .get)
            #expect(anonymous.status == .unauthorized)
        }
    }
}
