import Foundation
import GRDB
import SyncCapture
import SyncCore
import SyncTestSupport

/// Clock metadata size against data size on realistic dealership rows: after the first
/// push (one writer) and after a round of remote edits (two writers in every clock).
enum MetadataScenario {
    static func run(quick: Bool) throws -> [Figure] {
        let customers = quick ? 500 : 20_000
        let dms = try TestDMS(schemaSQL: DealerSchema.dmsSQL, label: "bench-metadata")
        var generator = DealershipGenerator(seed: 42, dealer: "DLR-1")
        try dms.dms.write { db in _ = try DealershipPopulator.populate(db, generator: &generator, customers: customers) }
        let database = try dms.open(batchRows: 50_000)
        _ = try database.install(schema: try SyncSchema(yaml: DealerSchema.syncSchemaYAML))
        while try database.stampPendingChanges(wallMillis: 1_763_900_000_000) > 0 {}

        let dataBytes = try dms.dms.read { db -> Int in
            var total = 0
            for table in ["customers", "vehicles", "leads", "service_orders", "service_lines"] {
                let columns = try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table]).map { $0["name"] as String }
                let sum = columns.map { "coalesce(length(CAST(\"\($0)\" AS BLOB)), 0)" }.joined(separator: " + ")
                total += try Int.fetchOne(db, sql: "SELECT sum(\(sum)) FROM \(table)") ?? 0
            }
            return total
        }
        /// Clock records alone, and with the copy of the key that indexes them (plus about
        /// 4 bytes of SQLite record header and the table id per row).
        func metadataBytes() throws -> (clock: Int, withKey: Int) {
            try dms.dms.read { db in
                let row = try Row.fetchOne(db, sql: "SELECT sum(length(clock)) AS c, sum(length(key) + length(clock) + 5) AS k FROM _dealersync_clock")!
                return (row["c"], row["k"])
            }
        }
        let afterPush = try metadataBytes()

        // HQ edits one column of every customer: the clocks now hold two writers.
        let rows = try dms.rows("SELECT id, customer_class FROM customers")
        var versions: [RowVersion] = []
        let hq = NodeID.hq
        let batches = try TestDMS.outboxBatches(database)
        let byKey = Dictionary(batches.flatMap(\.rows).map { ($0.key, $0) }, uniquingKeysWith: { $1 })
        for (index, row) in rows.enumerated() {
            guard var version = byKey[RowKey([SQLValue.text(row["id"])])] else { continue }
            version.write(["customer_class": .text("VIP")], dot: Dot(node: hq, counter: UInt64(index + 1)), hlc: HLCTimestamp(physicalMillis: 1_763_900_100_000, logical: 0))
            versions.append(version)
        }
        _ = try database.apply(versions, cursor: "bench", wallMillis: 1_763_900_200_000)
        let afterRemote = try metadataBytes()
        let rowCount = try dms.count("SELECT count(*) FROM _dealersync_clock")
        let perTable = try dms.rows("""
            SELECT t.name AS name, count(*) AS n, avg(length(c.clock)) AS clock, avg(length(c.key)) AS key
            FROM _dealersync_clock c JOIN _dealersync_tables t ON t.id = c.table_id GROUP BY t.name ORDER BY t.name
            """).map { row in
            Figure(scenario: "metadata", metric: "\(row["name"] as String): clock bytes per row (key bytes as baseline)",
                   value: row["clock"], unit: "bytes", baseline: row["key"], goal: "", met: nil)
        }
        func figure(_ metric: String, _ bytes: Int) -> Figure {
            Figure(scenario: "metadata", metric: metric, value: Double(bytes), unit: "bytes", baseline: Double(dataBytes),
                   goal: "≤ 0.30x data", met: Double(bytes) / Double(dataBytes) <= 0.30)
        }
        return [
            figure("clock records after first push (\(rowCount) rows)", afterPush.clock),
            figure("clock records + key copy after first push", afterPush.withKey),
            figure("clock records after HQ edits every customer", afterRemote.clock),
            figure("clock records + key copy after HQ edits every customer", afterRemote.withKey),
        ] + perTable
    }
}
