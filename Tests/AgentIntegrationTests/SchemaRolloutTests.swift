import Foundation
import GRDB
@testable import HQServer
import Hummingbird
import HummingbirdTesting
import Logging
@testable import SyncAgent
import SyncCapture
import SyncCore
import SyncDemo
import SyncTestSupport
import Testing

/// Schema rollout by group (docs/ROLLOUT.md), end to end: HQ publishes version 2 to a pilot
/// group, then to a second wave; the third group stays on version 1. Nobody touches a store.
@Suite("Schema rollout by group", .serialized)
struct SchemaRolloutTests {
    static let v1 = try! SyncSchema(yaml: DealerSchema.syncSchemaYAML)
    /// Version 2 syncs `test_drives`, routed to the store named in `dealer`.
    static let v2: SyncSchema = {
        var schema = v1
        schema.version = 2
        schema.tables.append(TableSpec(name: "test_drives", direction: .both, routingColumn: "dealer"))
        return schema
    }()
    static let dmsUpgrade = """
        ALTER TABLE customers ADD COLUMN loyalty_tier TEXT;
        CREATE TABLE test_drives (id TEXT PRIMARY KEY, customer_id TEXT, model TEXT, dealer TEXT, driven_on TEXT);
        """

    /// Three groups, HQ on version 2 (its SQL side knows every table) while the fleet runs 1.
    static func network() async throws -> SyncNetwork {
        var network = try await SyncNetwork(dealers: ["DLR-P1", "DLR-W1", "DLR-R1"])
        _ = try await network.store.publishSchema(v1, to: nil, atMillis: 1)
        try await network.store.addGroup("pilot", atMillis: 1)
        try await network.store.addGroup("wave-2", atMillis: 1)
        try await network.store.moveDealers(["DLR-P1"], to: "pilot")
        try await network.store.moveDealers(["DLR-W1"], to: "wave-2")
        network.config.schema = v2
        // The DMS vendor's upgrade reached every store: a new table and a new column.
        for (index, id) in ["DLR-P1", "DLR-W1", "DLR-R1"].enumerated() {
            let dms = network.stores[id]!
            for statement in dmsUpgrade.split(separator: ";") where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                try dms.execute(String(statement))
            }
            try dms.execute("INSERT INTO test_drives VALUES (?, NULL, 'Model Y', ?, '2026-12-01')", ["TD-\(id)", id])
            try dms.execute("UPDATE customers SET loyalty_tier = ? WHERE rowid = 1", ["gold-\(index)"])
        }
        return network
    }

    static func hqRow(_ network: SyncNetwork, _ table: String, _ key: String, dealer: String, schema: SyncSchema = v2) async throws -> [String: SQLValue]? {
        try await network.store.rowVersion(table: table, key: RowKey([.text(key)]), dealer: try NodeID(dealer), schema: schema)
            .map { $0.values(policy: schema.table(named: table)!.policy) }
    }

    @Test("a version published to the pilot reaches only the pilot; the next wave catches up with rows routed meanwhile")
    func pilotThenWave() async throws {
        let network = try await Self.network()
        let pilotCustomer = try network.stores["DLR-P1"]!.rows("SELECT id FROM customers WHERE rowid = 1")[0]["id"] as String
        try await network.withSettledHQ { port in
            // Before: everyone on version 1, nothing of test_drives at HQ.
            for id in ["DLR-P1", "DLR-W1", "DLR-R1"] { #expect(try network.databases[id]!.installedSchemaVersion() == 1) }
            #expect(try await Self.hqRow(network, "test_drives", "TD-DLR-P1", dealer: "DLR-P1") == nil)

            let published = try await network.store.publishSchema(Self.v2, to: "pilot", atMillis: 2)
            #expect(published.movedGroups == ["pilot": 1])
            // HQ writes a test drive for the wave-2 store while that store is still on 1.
            _ = try await network.store.writeAsHQ(HQWrite(
                spec: Self.v2.table(named: "test_drives")!, key: RowKey([.text("TD-HQ-W1")]),
                values: ["model": .text("Model 3"), "dealer": .text("DLR-W1"), "driven_on": .text("2026-12-02")],
                delete: false, atMillis: Date.nowMillis, maxRowBytes: 1 << 20))
            _ = try await network.settle(port: port)

            #expect(try network.databases["DLR-P1"]!.installedSchemaVersion() == 2)
            #expect(try network.databases["DLR-W1"]!.installedSchemaVersion() == 1)
            #expect(try network.databases["DLR-R1"]!.installedSchemaVersion() == 1)
            // The pilot's new table and new column reached HQ; the others' did not.
            #expect(try await Self.hqRow(network, "test_drives", "TD-DLR-P1", dealer: "DLR-P1")?["model"] == .text("Model Y"))
            #expect(try await Self.hqRow(network, "customers", pilotCustomer, dealer: "DLR-P1")?["loyalty_tier"] == .text("gold-0"))
            #expect(try await Self.hqRow(network, "test_drives", "TD-DLR-W1", dealer: "DLR-W1") == nil)
            #expect(try await Self.hqRow(network, "test_drives", "TD-DLR-R1", dealer: "DLR-R1") == nil)
            #expect(try network.stores["DLR-W1"]!.count("SELECT count(*) FROM test_drives WHERE id = 'TD-HQ-W1'") == 0)
            // HQ shows who runs what.
            let status = Dictionary(uniqueKeysWithValues: try await network.store.status(schema: Self.v2).map { ($0.id, $0) })
            #expect(status["DLR-P1"]?.schemaRunning == 2 && status["DLR-P1"]?.group == "pilot")
            #expect(status["DLR-W1"]?.schemaRunning == 1 && status["DLR-W1"]?.schemaAssigned == 1)
            let groups = Dictionary(uniqueKeysWithValues: try await network.store.groups(hqVersion: 2).map { ($0.name, $0) })
            #expect(groups["pilot"]?.schemaVersion == 2 && groups["pilot"]?.dealersRunning == 1)
            #expect(groups["default"]?.schemaVersion == 1 && groups["default"]?.dealersRunning == 1)

            // The second wave: its store adopts 2, sends its test drive, and receives the one
            // HQ routed to it while it ran 1 (its pull started over for the new table).
            _ = try await network.store.publishSchema(Self.v2, to: "wave-2", atMillis: 3)
            _ = try await network.settle(port: port)
            #expect(try network.databases["DLR-W1"]!.installedSchemaVersion() == 2)
            #expect(try await Self.hqRow(network, "test_drives", "TD-DLR-W1", dealer: "DLR-W1")?["model"] == .text("Model Y"))
            #expect(try network.stores["DLR-W1"]!.rows("SELECT model FROM test_drives WHERE id = 'TD-HQ-W1'").first?["model"] == "Model 3")
            #expect(try network.databases["DLR-R1"]!.installedSchemaVersion() == 1)
            #expect(try await Self.hqRow(network, "test_drives", "TD-DLR-R1", dealer: "DLR-R1") == nil)
            // Agent settings published to a group reach its stores only, over their own config.
            try await network.store.setAgentSettings(GroupAgentSettings(pollSeconds: 30, pageRows: 20), group: "pilot", atMillis: 4)
            let pilot = try network.cycle("DLR-P1", port: port)
            let other = try network.cycle("DLR-R1", port: port)
            _ = try await pilot.run()
            _ = try await other.run()
            #expect(pilot.pullPageRows == 20 && pilot.pollIntervalMillis == 30_000)
            #expect(other.pullPageRows == 50 && other.pollIntervalMillis == 5_000)
            try await network.store.setAgentSettings(nil, group: "pilot", atMillis: 5)
            _ = try await pilot.run()
            #expect(pilot.pullPageRows == 50, "cleared at HQ: the local config applies again")
            for id in ["DLR-P1", "DLR-W1", "DLR-R1"] {
                let digests = try await network.digests(id)
                #expect(digests.dealer == digests.hq, "\(id) converged")
            }
        }
    }

    @Test("an agent that does not adopt the new version keeps syncing under its own; one writing under a version HQ did not assign keeps its batch")
    func mismatches() async throws {
        let network = try await Self.network()
        try await network.withSettledHQ { port in
            _ = try await network.store.publishSchema(Self.v2, to: nil, atMillis: 2)
            // An old agent (or an HQ without rollout, seen from the agent): the answer names no
            // schema. The store stays on 1; HQ merges its pushes under 1 and shows it behind.
            let curl = try CurlTransport(settings: TransportSettings(connectTimeoutMillis: 2_000))
            let withoutRollout = MockTransport { request in
                guard !request.url.hasSuffix("/schema") else { return SyncAgent.HTTPResponse(status: 404, body: Array(#"{"error":"not found","hint":""}"#.utf8)) }
                var response = try await curl.send(request)
                response.headers["x-dealersync-schema"] = nil
                return response
            }
            let customer = try network.stores["DLR-R1"]!.rows("SELECT id FROM customers WHERE rowid = 2")[0]["id"] as String
            try network.stores["DLR-R1"]!.execute("UPDATE customers SET remarks = 'old agent' WHERE id = ?", [customer])
            _ = try await network.cycle("DLR-R1", port: port, transport: withoutRollout).run()
            #expect(try network.databases["DLR-R1"]!.installedSchemaVersion() == 1)
            #expect(try await Self.hqRow(network, "customers", customer, dealer: "DLR-R1")?["remarks"] == .text("old agent"))
            let behind = try await network.store.status(schema: Self.v2).first { $0.id == "DLR-R1" }
            #expect(behind?.schemaRunning == 1 && behind?.schemaAssigned == 2)

            // A store set up by hand with a version HQ never published: HQ refuses the batch
            // (409), the agent keeps it in its outbox and says why; nothing is merged.
            let handMade = try network.databases["DLR-W1"]!
            var v9 = Self.v2
            v9.version = 9
            _ = try handMade.install(schema: v9)
            try network.stores["DLR-W1"]!.execute("UPDATE customers SET remarks = 'v9' WHERE rowid = 1")
            let error = await #expect(throws: AgentError.self) { try await network.cycle("DLR-W1", port: port).run() }
            #expect(error?.code == .schemaNotAssigned)
            #expect(try network.stores["DLR-W1"]!.count("SELECT count(*) FROM _dealersync_outbox") > 0)
            #expect(try await network.store.count("dead_letters") == 0)
        }
    }
}
