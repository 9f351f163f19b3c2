import Foundation
import GRDB
import SyncCapture
import SyncTestSupport

/// Apply throughput, HQ → dealer: one store pushes customers and leads that belong to
/// another store (home dealer, assigned dealer); HQ routes them there. Timed: the
/// receiving agent's cycles pulling every page over libcurl and applying it (merge, write
/// with the capture guard, cursor saved with the rows). Baseline: raw SQLite insert of the
/// same rows, same run.
enum ApplyScenario {
    static func run(quick: Bool) async throws -> [Figure] {
        let customers = quick ? 500 : 50_000
        let run = try await routedRows(customers: customers, targetJoinsLate: false)
        let rate = Double(run.rows) / run.seconds
        return [
            Figure(
                scenario: "apply", metric: "HQ → dealer rows/s (\(run.rows) rows, pull pages of 1000 over libcurl; baseline raw SQLite insert)",
                value: rate, unit: "rows/s", baseline: run.baseline, goal: "≥ 50000 rows/s", met: rate >= 50_000),
        ]
    }

    /// What one measured catch-up gave.
    struct CatchUp {
        var rows: Int
        var seconds: Double
        var cycles: Int
        /// Raw SQLite inserts of the same rows, rows/s.
        var baseline: Double
    }

    /// One store pushes `customers` customers and their leads, all belonging to a second
    /// store; the second store's cycles then pull and apply them (timed). `targetJoinsLate`:
    /// the second store is only added to HQ after the rows are there (a new store joining).
    static func routedRows(customers: Int, targetJoinsLate: Bool) async throws -> CatchUp {
        let (source, target) = ("DLR-SRC", targetJoinsLate ? "DLR-NEW" : "DLR-DST")
        let hq = try await BenchHQ(dealers: targetJoinsLate ? [source] : [source, target])
        let origin = try seed(customers: customers, belongingTo: target)
        let originDatabase = try origin.open(node: source)
        _ = try originDatabase.install(schema: hq.schema)
        _ = try await BenchStores.pushAll(try hq.cycle(originDatabase).0)
        let baseline = try BenchStores.rawInsertRate(try BenchStores.dump(origin))

        if targetJoinsLate { try await hq.join(target) }
        let store = try TestDMS(schemaSQL: DealerSchema.dmsSQL, label: "bench-apply-dst")
        let database = try store.open(node: target)
        _ = try database.install(schema: hq.schema)
        let (cycle, _) = try hq.cycle(database)
        var applied = 0
        var cycles = 0
        let seconds = try await timeAsync {
            while true {
                let report = try await cycle.run()
                applied += report.appliedRows
                cycles += 1
                if report.pulledRows == 0 && !report.moreWaiting { break }
            }
        }
        await hq.stop()
        let rows = customers * 2
        guard applied == rows, try store.count("SELECT count(*) FROM leads") == customers else {
            throw BenchError("\(targetJoinsLate ? "new-store" : "apply"): \(applied) of \(rows) rows applied")
        }
        return CatchUp(rows: rows, seconds: seconds, cycles: cycles, baseline: baseline)
    }

    /// A store holding `customers` customers and their leads, all belonging to `dealer`.
    static func seed(customers: Int, belongingTo dealer: String) throws -> TestDMS {
        let origin = try TestDMS(schemaSQL: DealerSchema.dmsSQL, label: "bench-apply-src")
        var generator = DealershipGenerator(seed: 21, dealer: dealer)
        try origin.dms.write { db in
            for _ in 0..<customers {
                let customer = generator.customer()
                try db.execute(
                    sql: "INSERT INTO customers (id, name, mobile, birth_date, address, customer_class, home_dealer, gender, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [customer.id, customer.name, customer.mobile, customer.birthDate, customer.address, customer.customerClass,
                                customer.homeDealer, customer.gender, customer.source, customer.createdAt])
                let lead = generator.lead(for: customer)
                try db.execute(
                    sql: "INSERT INTO leads (id, customer_id, source, state, assigned_dealer, model) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [lead.id, lead.customerID, lead.source, lead.state, lead.assignedDealer, lead.model])
            }
        }
        return origin
    }
}
