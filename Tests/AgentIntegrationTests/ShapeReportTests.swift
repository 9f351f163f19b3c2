import Foundation
import GRDB
import HQServer
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
}
