import Foundation
import GRDB
@testable import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncAgent
import SyncCapture
import SyncCore
import SyncDemo
import SyncTestSupport
import Testing

/// HQ asks a store to resync and sees its progress; a new store catches up at its first
/// pulls (docs/ROLLOUT.md).
@Suite("Remote requests and catch-up", .serialized)
struct RemoteRequestTests {
    @Test("a remote resync runs at the store's next cycle, finds a row HQ missed, and reports done")
    func remoteResync() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A", "DLR-B"])
        let app = try await buildApplication(network.config)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            _ = try await network.settle(port: port)
            // A row written with capture off (as a DMS tool that bypasses triggers would):
            // HQ never hears of it by itself.
            try await network.stores["DLR-A"]!.dms.write { db in
                try db.execute(sql: "INSERT INTO _dealersync_guard (active) VALUES (1)")
                try db.execute(sql: "INSERT INTO customers (id, name, home_dealer) VALUES ('C-MISSED', '王五', 'DLR-A')")
                try db.execute(sql: "DELETE FROM _dealersync_guard")
            }
            _ = try await network.settle(port: port)
            let key = RowKey([.text("C-MISSED")])
            #expect(try await network.store.rowVersion(table: "customers", key: key, dealer: try NodeID("DLR-A"), schema: network.schema) == nil)

            let request = try await network.store.requestResync(dealer: "DLR-A", table: "customers", atMillis: Date.nowMillis)
            #expect(request.state == .pending)
            // Asking twice while it is open gives the same request.
            #expect(try await network.store.requestResync(dealer: "DLR-A", table: "customers", atMillis: Date.nowMillis).id == request.id)
            _ = try await network.settle(port: port)

            #expect(try await network.store.rowVersion(table: "customers", key: key, dealer: try NodeID("DLR-A"), schema: network.schema) != nil)
            let done = try #require(try await network.store.remoteRequests(dealer: "DLR-A", limit: 5).first { $0.id == request.id })
            #expect(done.state == .done)
            #expect(done.total > 20 && done.done == done.total)
            #expect(done.message?.contains("queued 1 unsynced") == true)
            // The other store was not asked and has no request.
            #expect(try await network.store.remoteRequests(dealer: "DLR-B", limit: 5).isEmpty)
            let digests = try await network.digests("DLR-A")
            #expect(digests.dealer == digests.hq)
        }
    }

    @Test("hostile progress reports: another dealer's request, a finished one, bad counts and control characters")
    func hostileProgress() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A", "DLR-B"])
        let app = try await buildApplication(network.config)
        let request = try await network.store.requestResync(dealer: "DLR-A", table: nil, atMillis: 1)
        try await app.test(.router) { client in
            func report(_ path: String, token: String, _ body: String) async throws -> HTTPResponse.Status {
                try await client.execute(
                    uri: path, method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                    body: ByteBuffer(string: body)
                ) { $0.status }
            }
            let good = #"{"state":"running","done":1,"total":2,"message":"ok"}"#
            // B's token on A's path, and B reporting on A's request under its own path.
            #expect(try await report("/v1/dealers/DLR-A/requests/\(request.id)", token: network.tokens["DLR-B"]!, good) == .forbidden)
            #expect(try await report("/v1/dealers/DLR-B/requests/\(request.id)", token: network.tokens["DLR-B"]!, good) == .notFound)
            #expect(try await report("/v1/dealers/DLR-A/requests/x", token: network.tokens["DLR-A"]!, good) == .badRequest)
            #expect(try await report("/v1/dealers/DLR-A/requests/\(request.id)", token: network.tokens["DLR-A"]!, #"{"state":"running","done":-1,"total":2}"#) == .badRequest)
            #expect(try await report("/v1/dealers/DLR-A/requests/\(request.id)", token: network.tokens["DLR-A"]!, #"{"state":"paused","done":1,"total":2}"#) == .badRequest)
            #expect(try await report("/v1/dealers/DLR-A/requests/\(request.id)", token: network.tokens["DLR-A"]!, "{\"state\":\"running\",\"done\":1,\"total\":2,\"message\":\"a\\u001b[2Jb\"}") == .badRequest)
            #expect(try await report("/v1/dealers/DLR-A/requests/\(request.id)", token: network.tokens["DLR-A"]!, String(repeating: "x", count: 5_000)) == .contentTooLarge)
            #expect(try await report("/v1/dealers/DLR-A/requests/\(request.id)", token: network.tokens["DLR-A"]!, #"{"state":"done","done":2,"total":2}"#) == .noContent)
            // Finished stays finished.
            #expect(try await report("/v1/dealers/DLR-A/requests/\(request.id)", token: network.tokens["DLR-A"]!, good) == .notFound)
            #expect(try await network.store.remoteRequests(dealer: "DLR-A", limit: 1).first?.state == .done)
            // A dealer reads only its own group's schema.
            let schema = try await client.execute(uri: "/v1/dealers/DLR-A/schema", method: .get, headers: [.authorization: "Bearer \(network.tokens["DLR-B"]!)"]) { $0.status }
            #expect(schema == .forbidden)
        }
    }

    @Test("a store joining a running fleet receives what is routed to it at its first pulls, and sees how much is left")
    func newStoreCatchesUp() async throws {
        var network = try await SyncNetwork(dealers: ["DLR-A"])
        let leads = TableSpec(name: "leads", direction: .both, routingColumn: "assigned_dealer", owners: ["assigned_dealer": .hq])
        // HQ assigns 300 leads to a store that does not exist yet.
        for index in 0..<300 {
            _ = try await network.store.writeAsHQ(HQWrite(
                spec: leads, key: RowKey([.text("L-NEW-\(index)")]),
                values: ["assigned_dealer": .text("DLR-NEW"), "model": .text("Model \(index % 7)"), "state": .text("open")],
                delete: false, atMillis: Date.nowMillis, maxRowBytes: 1 << 20))
        }
        let token = Tokens.generate()
        try await network.store.addPrincipal(NewPrincipal(id: "DLR-NEW", name: nil, kind: .dealer, tokenSHA256: Tokens.sha256(of: token), createdAtMillis: 1))
        network.tokens["DLR-NEW"] = token
        let dms = try TestDMS(schemaSQL: DealerSchema.dmsSQL, label: "it-new")
        let database = try dms.open(node: "DLR-NEW")
        _ = try database.install(schema: network.schema)
        network.stores["DLR-NEW"] = dms
        network.databases["DLR-NEW"] = database

        let app = try await buildApplication(network.config)
        let joined = network
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let remaining = RemainingSeen()
            let curl = try CurlTransport(settings: TransportSettings(connectTimeoutMillis: 2_000))
            let watching = MockTransport { request in
                let response = try await curl.send(request)
                if let left = response.headers["x-dealersync-remaining"].flatMap(Int.init) { remaining.add(left) }
                return response
            }
            _ = try await joined.cycle("DLR-NEW", port: port, transport: watching, pullPageRows: 50).run()
            #expect(try dms.count("SELECT count(*) FROM leads WHERE assigned_dealer = 'DLR-NEW'") == 300)
            // Full pages said what was left, going down to 0.
            let seen = remaining.values
            #expect(seen.first == 250 && seen.last == 0 && seen == seen.sorted(by: >))
        }
    }
}

private final class RemainingSeen: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [Int] = []
    func add(_ value: Int) { lock.withLock { seen.append(value) } }
    var values: [Int] { lock.withLock { seen } }
}
