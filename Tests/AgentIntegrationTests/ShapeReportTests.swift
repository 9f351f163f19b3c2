import Foundation
import GRDB
import HQServer
import SyncAgent
import SyncCapture
import SyncCore
import SyncTestSupport
import Testing

/// A DMS upgrade adds a column while the store syncs: the agent reports the new shape before
/// it pushes the rows that carry the column, and HQ's SQL table gains it with no restart
/// (docs/HQ-TABLES.md). Tables the sync schema does not declare are learned this way.
@Suite("Table shapes from a real agent")
struct ShapeReportTests {
    static func hqTables(_ network: SyncNetwork) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: try #require(network.config.tablesPath), configuration: configuration)
    }

    @Test("HQ learns undeclared tables from the agent; a column the DMS adds appears at HQ with its values, while HQ runs")
    func columnAddedWhileSyncing() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"], tables: true)
        try await network.withSettledHQ { port in
            let tables = try Self.hqTables(network)
            let dms = network.stores["DLR-A"]!
            let learned = try await tables.read { db in try String.fetchAll(db, sql: "SELECT name FROM pragma_table_xinfo('vehicles')") }
            #expect(learned == ["_row_key", "vin", "customer_id", "model", "plate", "sold_on", "color", "engine_number", "mileage_km", "insurance_expiry",
                                "_origin", "_changed_by", "_changed_at_ms", "_feed_seq"])
            let vehicles = try dms.count("SELECT count(*) FROM vehicles")
            #expect(vehicles > 0)
            #expect(try await tables.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM vehicles") } == vehicles)
            #expect(try await tables.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM service_lines WHERE _dealer = 'DLR-A'") } ?? 0 > 0)

            // The DMS upgrade, then the DMS fills the new column.
            try dms.execute("ALTER TABLE vehicles ADD COLUMN warranty_months INTEGER")
            try dms.execute("UPDATE vehicles SET warranty_months = 36")
            _ = try await network.settle(port: port)
            let shown = try await tables.read { db in
                try Row.fetchOne(db, sql: "SELECT count(*) AS n, min(warranty_months) AS low, max(typeof(warranty_months)) AS class FROM vehicles")
            }
            #expect(shown?["n"] as Int? == vehicles && shown?["low"] as Int64? == 36 && shown?["class"] as String? == "integer", "\(String(describing: shown))")
            let differences = try network.store.checkTables()
            #expect(differences.values.allSatisfy { $0 == 0 }, "\(differences)")
            #expect(try network.databases["DLR-A"]!.reportedShapeSHA256() != nil)
        }
    }

    @Test("an HQ that does not take shape reports (404 from an older release) never stops the sync; an HQ that does learns the tables and fills them from rows it already had")
    func olderHQ() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"], tables: true)
        let app = try await buildApplication(network.config)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let curl = try CurlTransport(settings: TransportSettings(connectTimeoutMillis: 2_000))
            let older = MockTransport { request in
                if request.url.hasSuffix("/shape") {
                    return HTTPResponse(status: 404, headers: [:], body: Array(#"{"error":"no route","hint":"-"}"#.utf8), receivedAtMillis: 0)
                }
                return try await curl.send(request)
            }
            var moved = 0
            for _ in 0..<8 {
                let report = try await network.cycle("DLR-A", port: port, transport: older).run()
                moved = report.pushedRows + report.appliedRows
                if moved == 0 { break }
            }
            let digests = try await network.digests("DLR-A")
            #expect(digests.dealer == digests.hq, "every row reached HQ without shape reports")
            #expect(try network.databases["DLR-A"]!.reportedShapeSHA256() == nil)
            let tables = try Self.hqTables(network)
            // sqlite_schema, not GRDB's tableExists: GRDB caches the schema of this reader's connection.
            let exists = "SELECT count(*) FROM sqlite_schema WHERE name = 'vehicles'"
            #expect(try await tables.read { db in try Int.fetchOne(db, sql: exists) } == 0, "nothing learned yet")

            // The same store against an HQ that takes reports: the tables appear, filled.
            _ = try await network.cycle("DLR-A", port: port).run()
            let vehicles = try network.stores["DLR-A"]!.count("SELECT count(*) FROM vehicles")
            let filled = try await waitUntil(seconds: 30, every: 100) {
                try await tables.read { db in try Int.fetchOne(db, sql: exists) == 1 ? try Int.fetchOne(db, sql: "SELECT count(*) FROM vehicles") : 0 } == vehicles
            }
            #expect(filled, "HQ's filler shows the rows it already had")
            let differences = try network.store.checkTables()
            #expect(differences.values.allSatisfy { $0 == 0 }, "\(differences)")
        }
    }
}
