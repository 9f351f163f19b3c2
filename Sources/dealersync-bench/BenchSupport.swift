import Foundation
import GRDB
import SyncAgent
import SyncCapture
import SyncCore
import SyncTestSupport

/// Seconds since an arbitrary start, monotonic.
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// The value below which `fraction` of `values` fall (nearest rank).
func percentile(_ values: [Double], _ fraction: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}

func progress(_ line: String) { FileHandle.standardError.write(Data("  \(line)\n".utf8)) }

enum BenchStores {
    /// A DMS with about `rows` generated dealership rows (customers with a vehicle, a lead
    /// and every other one a service order with its lines), not yet set up for sync.
    /// Returns the DMS and its exact row count.
    static func populated(rows: Int, seed: UInt64 = 7, dealer: String = "DLR-1", label: String) throws -> (TestDMS, Int) {
        let dms = try TestDMS(schemaSQL: DealerSchema.dmsSQL, label: label)
        var generator = DealershipGenerator(seed: seed, dealer: dealer)
        var total = 0
        // Chunks of 20k customers keep each transaction's memory small.
        while total < rows {
            let customers = max(1, min(20_000, (rows - total) * 2 / 9))
            total += try dms.dms.write { db in try DealershipPopulator.populate(db, generator: &generator, customers: customers).total }
        }
        return (dms, total)
    }

    /// Every row of the dealer tables, per table, as plain values: the input of the raw
    /// SQLite insert baseline.
    static func dump(_ dms: TestDMS) throws -> [(table: String, columns: [String], rows: [[DatabaseValue]])] {
        try dms.dms.read { db in
            try ["customers", "vehicles", "leads", "service_orders", "service_lines"].map { table in
                let columns = try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table]).map { $0["name"] as String }
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table)").map { row in columns.map { row[$0] as DatabaseValue } }
                return (table, columns, rows)
            }
        }
    }

    /// Raw SQLite: the same rows inserted with prepared statements into a fresh database of
    /// the same schema, one transaction, `synchronous=FULL` as dealersync's own commits.
    /// Returns rows per second.
    static func rawInsertRate(_ tables: [(table: String, columns: [String], rows: [[DatabaseValue]])]) throws -> Double {
        let directory = TemporaryDirectory("bench-raw")
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let queue = try DatabaseQueue(path: directory.file("raw.sqlite"), configuration: config)
        try queue.write { db in try db.execute(sql: DealerSchema.dmsSQL) }
        let count = tables.reduce(0) { $0 + $1.rows.count }
        let seconds = try time {
            try queue.write { db in
                for table in tables {
                    let placeholders = table.columns.map { _ in "?" }.joined(separator: ", ")
                    let statement = try db.makeStatement(
                        sql: "INSERT INTO \(table.table) (\(table.columns.map { "\"\($0)\"" }.joined(separator: ", "))) VALUES (\(placeholders))")
                    for row in table.rows { try statement.execute(arguments: StatementArguments(row)) }
                }
            }
        }
        return Double(count) / seconds
    }

    /// Runs sync cycles until nothing is left to stamp or push; returns rows pushed and
    /// rows pulled back along the way.
    static func pushAll(_ cycle: SyncCycle) async throws -> (pushed: Int, pulled: Int) {
        var pushed = 0, pulled = 0
        while true {
            let report = try await cycle.run()
            pushed += report.pushedRows
            pulled += report.pulledRows
            if report.stampedRows == 0 && report.pushedRows == 0 && !report.moreWaiting { return (pushed, pulled) }
        }
    }
}
