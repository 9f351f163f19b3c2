import Foundation
import GRDB
import HQServer
import Hummingbird
import HummingbirdTesting
import SyncAgent
import SyncCapture
import SyncCore
import SyncDemo
import SyncTestSupport
import Testing

/// Columns a store keeps `local` (docs/PRIVACY.md) never leave it: checked on the wire (every
/// byte an agent sends) and at HQ (every byte of its files), also when an agent set up before
/// the policy sends them anyway.
@Suite("Local columns", .serialized)
struct LocalColumnsTests {
    /// The dealer schema with `customers.wechat` local (and so not among HQ's declared columns).
    static let schema: SyncSchema = {
        var schema = try! SyncSchema(yaml: DealerSchema.syncSchemaYAML)
        let index = schema.tables.firstIndex { $0.name == "customers" }!
        schema.tables[index].localColumns = ["wechat"]
        schema.tables[index].columns?.removeAll { $0.name == "wechat" }
        return schema
    }()

    /// Every byte in HQ's files (store, tables, their WALs).
    static func hqBytes(_ network: SyncNetwork) throws -> Data {
        var bytes = Data()
        for file in try FileManager.default.contentsOfDirectory(atPath: network.directory.path) where file.hasPrefix("hq.") {
            bytes += try Data(contentsOf: URL(fileURLWithPath: network.directory.file(file)))
        }
        return bytes
    }

    @Test("a local column is in no byte an agent sends nor in HQ's files; its edits push nothing; HQ's versions never overwrite it")
    func neverLeaves() async throws {
        var network = try await SyncNetwork(dealers: ["DLR-A", "DLR-B"], tables: true, schema: Self.schema)
        // A store set up before the policy (its schema keeps nothing local) sends the column:
        // HQ drops it.
        let old = try TestDMS(schemaSQL: DealerSchema.dmsSQL, label: "it-old")
        try await old.dms.write { db in
            var generator = DealershipGenerator(seed: 77, dealer: "DLR-OLD")
            _ = try DealershipPopulator.populate(db, generator: &generator, customers: 10)
            try db.execute(sql: "UPDATE customers SET wechat = 'wx-OLD-' || id")
        }
        let oldDatabase = try old.open(node: "DLR-OLD")
        _ = try oldDatabase.install(schema: try SyncSchema(yaml: DealerSchema.syncSchemaYAML))
        let token = Tokens.generate()
        try await network.store.addPrincipal(NewPrincipal(id: "DLR-OLD", name: nil, kind: .dealer, tokenSHA256: Tokens.sha256(of: token), createdAtMillis: 1))
        network.tokens["DLR-OLD"] = token
        network.stores["DLR-OLD"] = old
        network.databases["DLR-OLD"] = oldDatabase
        for id in ["DLR-A", "DLR-B"] { try network.stores[id]!.execute("UPDATE customers SET wechat = 'wx-LOCAL-\(id)-' || id") }
        // One of A's customers moves to B: B receives the row, without its local value.
        let moved = try network.stores["DLR-A"]!.rows("SELECT id FROM customers WHERE rowid = 2")[0]["id"] as String
        try network.stores["DLR-A"]!.execute("UPDATE customers SET home_dealer = 'DLR-B' WHERE id = ?", [moved])

        let sent = SentBodies()
        let curl = try CurlTransport(settings: TransportSettings(connectTimeoutMillis: 2_000))
        let recording = MockTransport { request in
            sent.add(request)
            return try await curl.send(request)
        }
        let network0 = network
        let app = try await buildApplication(network.config)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // Every byte A and B send, from their first cycle (shape report, snapshot) on.
            for _ in 0..<3 {
                for id in ["DLR-A", "DLR-B"] { _ = try await network0.cycle(id, port: port, transport: recording).run() }
                _ = try await network0.cycle("DLR-OLD", port: port).run()
            }
            // An edit of the local column alone: nothing to push.
            let customer = try network0.stores["DLR-A"]!.rows("SELECT id FROM customers WHERE rowid = 1")[0]["id"] as String
            try network0.stores["DLR-A"]!.execute("UPDATE customers SET wechat = 'wx-LOCAL-edited' WHERE id = ?", [customer])
            let pending = try network0.databases["DLR-A"]!.healthReport(agentVersion: "test", lastError: nil).pendingChanges
            #expect(pending == 0, "a local column's edit is not captured")
            // An edit of a synced column goes out, without the local one; HQ's version of the
            // row comes back and leaves the local value alone.
            try network0.stores["DLR-A"]!.execute("UPDATE customers SET remarks = 'synced remark' WHERE id = ?", [customer])
            for _ in 0..<2 { for id in ["DLR-A", "DLR-B"] { _ = try await network0.cycle(id, port: port, transport: recording).run() } }
            let version = try await network0.store.rowVersion(table: "customers", key: RowKey([.text(customer)]), dealer: try NodeID("DLR-A"), schema: Self.schema)
            #expect(version?.values(policy: Self.schema.table(named: "customers")!.policy)["remarks"] == .text("synced remark"))
            #expect(version?.columns["wechat"] == nil)
            #expect(try network0.stores["DLR-A"]!.rows("SELECT wechat FROM customers WHERE id = ?", [customer]).first?["wechat"] == "wx-LOCAL-edited")
            // Converged on everything that syncs: the local column is in neither digest.
            for _ in 0..<2 { for id in ["DLR-A", "DLR-B"] { _ = try await network0.cycle(id, port: port, transport: recording).run() } }
            for id in ["DLR-A", "DLR-B"] {
                let digests = try await network0.digests(id)
                #expect(digests.dealer == digests.hq, "\(id) converged")
            }
        }
        #expect(sent.pushes > 0, "pushes were recorded")
        #expect(!sent.contains("wx-LOCAL"), "a local column's value was sent")
        #expect(!sent.contains("wechat"), "a local column's name was sent (shape report or batch)")
        let hq = try Self.hqBytes(network)
        #expect(hq.range(of: Data("wx-LOCAL".utf8)) == nil, "HQ's files hold a local value")
        #expect(hq.range(of: Data("wx-OLD".utf8)) == nil, "HQ kept a local column an old agent sent")
        #expect(try await network.store.count("rows") > 20, "the rest synced")
        // B received A's and the old store's customers, without their local values.
        #expect(try network.stores["DLR-B"]!.rows("SELECT wechat FROM customers WHERE id = ?", [moved]).first.map { $0["wechat"] as String? } == .some(nil))
        #expect(try network.stores["DLR-B"]!.count("SELECT count(*) FROM customers WHERE wechat LIKE 'wx-LOCAL-DLR-A%' OR wechat LIKE 'wx-OLD%'") == 0)
    }
}
