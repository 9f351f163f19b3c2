import Foundation
import GRDB
import SyncCapture
import SyncCore
import SyncTestSupport

/// Bytes on the wire for a day at a store: 1% of its customers edited (a new mobile, a new
/// address, or remarks and occupation), after everything before was pushed. Counted: the
/// gzip batch bodies the agent POSTs, plus an allowance of 400 bytes of request line and
/// headers per batch. Baseline: a gzip of the full SQL dump of the same DMS tables — what
/// shipping the database every night would cost.
enum WireScenario {
    /// Request line, Host, Authorization (64-character token), Content-Type,
    /// Content-Encoding, Content-Length, the SHA-256 and clock headers: about 400 bytes.
    static let headerBytesPerRequest = 400

    static func run(quick: Bool) throws -> [Figure] {
        let customers = quick ? 1_000 : 100_000
        let dms = try TestDMS(schemaSQL: DealerSchema.dmsSQL, label: "bench-wire")
        var generator = DealershipGenerator(seed: 31, dealer: "DLR-WIRE")
        var remaining = customers
        while remaining > 0 {
            let chunk = min(remaining, 20_000)
            try dms.dms.write { db in _ = try DealershipPopulator.populate(db, generator: &generator, customers: chunk) }
            remaining -= chunk
        }
        let dumpBytes = Gzip.compress(Array(try sqlDump(dms).utf8)).count

        let database = try dms.open(node: "DLR-WIRE")
        _ = try database.install(schema: try SyncSchema(yaml: DealerSchema.syncSchemaYAML))
        // Everything so far was pushed yesterday.
        while try database.stampPendingChanges(wallMillis: 1_763_900_000_000) > 0 {}
        while case let entries = try database.outbox(limit: 1_000), !entries.isEmpty {
            for entry in entries { try database.acknowledge(entry) }
        }

        let ids = try dms.rows("SELECT id FROM customers ORDER BY rowid").map { $0["id"] as String }
        let changed = stride(from: 0, to: ids.count, by: 100).map { ids[$0] }
        try dms.dms.write { db in
            for (index, id) in changed.enumerated() {
                switch index % 3 {
                case 0: try db.execute(sql: "UPDATE customers SET mobile = ? WHERE id = ?", arguments: [generator.mobile(), id])
                case 1: try db.execute(sql: "UPDATE customers SET address = ? WHERE id = ?", arguments: [generator.customer().address ?? "上海市浦东新区世纪大道100号", id])
                default:
                    try db.execute(
                        sql: "UPDATE customers SET remarks = ?, occupation = ? WHERE id = ?", arguments: ["已回访，客户计划下月保养", "工程师", id])
                }
            }
        }
        var rows = 0
        while case let stamped = try database.stampPendingChanges(wallMillis: 1_763_990_000_000), stamped > 0 { rows += stamped }
        let batches = try database.outbox(limit: 10_000)
        guard rows == changed.count, batches.reduce(0, { $0 + $1.rowCount }) == rows else {
            throw BenchError("wire: \(rows) rows stamped for \(changed.count) changed customers")
        }
        let wireBytes = batches.reduce(0) { $0 + $1.body.count + headerBytesPerRequest }
        let perRow = Double(wireBytes) / Double(rows)
        let smaller = Double(dumpBytes) / Double(wireBytes)
        return [
            Figure(
                scenario: "wire", metric: "bytes per changed row (\(rows) of \(customers) customers, \(batches.count) batches)",
                value: perRow, unit: "B/row", baseline: nil, goal: "≤ 60 B/row", met: perRow <= 60),
            Figure(
                scenario: "wire", metric: "day's push bytes; baseline gzip of the full DMS dump (times smaller = 1/ratio)",
                value: Double(wireBytes), unit: "bytes", baseline: Double(dumpBytes), goal: "≥ 100x smaller", met: smaller >= 100),
        ]
    }

    /// `INSERT` statements for every row of the dealer tables, as `sqlite3 .dump` writes them.
    static func sqlDump(_ dms: TestDMS) throws -> String {
        try dms.dms.read { db -> String in
            var dump = DealerSchema.dmsSQL
            for table in ["customers", "vehicles", "leads", "service_orders", "service_lines"] {
                let columns = try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table]).map { $0["name"] as String }
                let values = columns.map { "quote(\"\($0)\")" }.joined(separator: " || ',' || ")
                let cursor = try String.fetchCursor(db, sql: "SELECT 'INSERT INTO \(table) VALUES(' || \(values) || ');' FROM \(table)")
                while let line = try cursor.next() {
                    dump += line
                    dump += "\n"
                }
            }
            return dump
        }
    }
}
