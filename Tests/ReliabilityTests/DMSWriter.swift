import Foundation
import GRDB

/// The store's DMS application: commits small transactions of its own (new customers, some
/// homed at another store so HQ routes them there; edits; service lines added and removed)
/// and counts what it committed, so a test knows what must arrive.
final class DMSWriter: @unchecked Sendable {
    let dealer: String
    let queue: DatabaseQueue
    private var random: SplitMix
    private(set) var customersInserted = 0
    /// Customers committed here with another store as home: dealer → count.
    private(set) var customersFor: [String: Int] = [:]
    private(set) var linesLive = 0
    /// Rows of other tables (the one service order the lines hang on).
    private(set) var otherRows = 0
    private(set) var changes = 0
    private var ownCustomers: [String] = []

    init(path: String, dealer: String, seed: UInt64) throws {
        self.dealer = dealer
        random = SplitMix(seed: seed)
        var configuration = Configuration()
        // A DMS waits for the agent's short transactions like any SQLite writer.
        configuration.busyMode = .timeout(30)
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO service_orders (id, vin, opened_on, status) VALUES (?, 'VIN', '2026-01-01', 'open')", arguments: ["SO-\(dealer)"])
        }
        otherRows = 1
        changes = 1
    }

    /// Rows in a DMS table, read on the DMS's own (patient) connection.
    func count(_ table: String) throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
    }

    /// `count` customers homed here, each with a bulky remark, in transactions of 100.
    func bulkyCustomers(_ count: Int, remarkBytes: Int) throws {
        let remark = String(repeating: "r", count: remarkBytes)
        var left = count
        while left > 0 {
            let now = min(left, 100)
            try queue.write { db in
                for _ in 0..<now {
                    try db.execute(
                        sql: "INSERT INTO customers (id, name, home_dealer, remarks) VALUES (?, ?, ?, ?)",
                        arguments: ["C-\(dealer)-\(customersInserted)", "Customer \(customersInserted)", dealer, remark])
                    customersInserted += 1
                    changes += 1
                }
            }
            left -= now
        }
    }

    /// `count` committed changes, each in its own transaction; customers homed at one of
    /// `others` one time in five.
    func burst(_ count: Int, others: [String]) throws {
        for _ in 0..<count { try change(others: others) }
    }

    private func change(others: [String]) throws {
        let roll = random.next() % 10
        try queue.write { db in
            switch roll {
            case 0..<4, _ where ownCustomers.isEmpty:
                let id = "C-\(dealer)-\(customersInserted)"
                var home = dealer
                if !others.isEmpty, random.next() % 5 == 0 { home = others[Int(random.next() % UInt64(others.count))] }
                try db.execute(
                    sql: "INSERT INTO customers (id, name, home_dealer, remarks) VALUES (?, ?, ?, 'new')",
                    arguments: [id, "Customer \(customersInserted)", home])
                customersInserted += 1
                if home != dealer { customersFor[home, default: 0] += 1 } else { ownCustomers.append(id) }
            case 4..<6:
                let id = ownCustomers[Int(random.next() % UInt64(ownCustomers.count))]
                try db.execute(sql: "UPDATE customers SET remarks = ? WHERE id = ?", arguments: ["edit \(changes)", id])
            case 6..<9:
                try db.execute(
                    sql: "INSERT INTO service_lines (order_id, item, quantity, price) VALUES (?, ?, ?, ?)",
                    arguments: ["SO-\(dealer)", "part \(changes)", Int(random.next() % 5) + 1, Double(random.next() % 10_000) / 100])
                linesLive += 1
            default:
                try db.execute(sql: "DELETE FROM service_lines WHERE id = (SELECT min(id) FROM service_lines)")
                linesLive -= db.changesCount
            }
        }
        changes += 1
    }
}

/// A small seeded generator (SplitMix64): the same seed gives the same run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
