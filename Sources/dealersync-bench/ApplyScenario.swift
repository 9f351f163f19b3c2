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
        let (source, target) = ("DLR-SRC", "DLR-DST")
        let customers = quick ? 500 : 50_000
        let hq = try await BenchHQ(dealers: [source, target])
        let origin = try seed(customers: customers, belongingTo: target)
        let originDatabase = try origin.open(node: source)
        _ = try originDatabase.install(schema: hq.schema)
        _ = try await BenchStores.pushAll(try hq.cycle(originDatabase).0)
        let baseline = try BenchStores.rawInsertRate(try BenchStores.dump(origin))

        let store = try TestDMS(schemaSQL: DealerSchema.dmsSQL, label: "bench-apply-dst")
        let database = try store.open(node: target)
        _ = try database.install(schema: hq.schema)
        let (cycle, _) = try hq.cycle(database)
        var applied = 0
        let seconds = try await timeAsync {
            while true {
                let report = try await cycle.run()
                applied += report.appliedRows
                if report.pulledRows == 0 && !report.moreWaiting { break }
            }
        }
        await hq.stop()
        let rows = customers * 2
        guard applied == rows, try store.count("SELECT count(*) FROM leads") == customers else {
            throw BenchError("apply: \(applied) of \(rows) rows applied")
        }
        let rate = Double(rows) / seconds
        return [
            Figure(
                scenario: "apply", metric: "HQ → dealer rows/s (\(rows) rows, pull pages of 1000 over libcurl; baseline raw SQLite insert)",
                value: rate, unit: "rows/s", baseline: baseline, goal: "≥ 50000 rows/s", met: rate >= 50_000),
        ]
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
