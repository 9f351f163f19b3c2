import Foundation
import GRDB
import SyncCapture
import SyncCore
import SyncTestSupport

/// Capture overhead: the same DMS workload on two identical databases, one with the capture
/// triggers installed, one without, interleaved so both see the same machine noise.
enum CaptureScenario {
    static func run(quick: Bool) throws -> [Figure] {
        let singleRows = quick ? 200 : 1_000
        let bulkRows = quick ? 5_000 : 100_000
        let rounds = quick ? 1 : 3
        var plain: (single: [Double], update: [Double], bulk: [Double]) = ([], [], [])
        var captured: (single: [Double], update: [Double], bulk: [Double]) = ([], [], [])
        for round in 0..<rounds {
            for withTriggers in [false, true] {
                let dms = try TestDMS(schemaSQL: DealerSchema.dmsSQL, label: "bench-capture")
                if withTriggers {
                    _ = try dms.open().install(schema: try SyncSchema(yaml: DealerSchema.syncSchemaYAML))
                }
                var generator = DealershipGenerator(seed: UInt64(round), dealer: "DLR-1")
                let customers = (0..<singleRows).map { _ in generator.customer() }
                // Single-row autocommit inserts, then updates, as a DMS front desk does them.
                let single = try time {
                    for customer in customers {
                        try dms.dms.write { db in
                            try db.execute(
                                sql: "INSERT INTO customers (id, name, mobile, address, customer_class, home_dealer) VALUES (?, ?, ?, ?, ?, ?)",
                                arguments: [customer.id, customer.name, customer.mobile, customer.address, customer.customerClass, customer.homeDealer])
                        }
                    }
                }
                let update = try time {
                    for customer in customers {
                        try dms.dms.write { db in
                            try db.execute(sql: "UPDATE customers SET mobile = ? WHERE id = ?", arguments: [generator.mobile(), customer.id])
                        }
                    }
                }
                let bulk = try time {
                    try dms.dms.write { db in
                        _ = try DealershipPopulator.populate(db, generator: &generator, customers: bulkRows / 4)
                    }
                }
                if withTriggers {
                    captured.single.append(single); captured.update.append(update); captured.bulk.append(bulk)
                } else {
                    plain.single.append(single); plain.update.append(update); plain.bulk.append(bulk)
                }
            }
        }
        func figure(_ metric: String, _ with: [Double], _ without: [Double], per: Int, goal: Double) -> Figure {
            let value = median(with) / Double(per) * 1e6, base = median(without) / Double(per) * 1e6
            return Figure(
                scenario: "capture", metric: metric, value: value, unit: "µs/row", baseline: base,
                goal: "≤ \(goal)x", met: value / base <= goal)
        }
        return [
            figure("single-row autocommit insert", captured.single, plain.single, per: singleRows, goal: 1.3),
            figure("single-row autocommit update", captured.update, plain.update, per: singleRows, goal: 1.3),
            figure("bulk insert (~\(bulkRows) rows, one transaction)", captured.bulk, plain.bulk, per: bulkRows, goal: 1.8),
        ]
    }
}

func time(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}
