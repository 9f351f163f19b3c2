import Foundation
import GRDB
import HQServer
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncDemo
import SyncTestSupport
import Testing

/// `dealersync lookup` at a store's counter (docs/IDENTITY.md): a customer known at two
/// stores is found from a third, only the permitted columns arrive, the DMS gets them in its
/// database, and HQ records the request.
@Suite("dealersync lookup")
struct LookupCommandTests {
    static let binary = ProcessRunner.dealersyncBinary

    @Test("a third store looks up a customer known at two others: permitted columns only, written into its DMS, recorded at HQ", .enabled(if: binary != nil))
    func counter() async throws {
        let binary = try #require(Self.binary)
        let network = try await SyncNetwork(dealers: ["DLR-A", "DLR-B", "DLR-C"], tables: true)
        // The same person walks into DLR-B, which types them its own way.
        let person = try await network.stores["DLR-A"]!.dms.read { db in
            try Row.fetchOne(db, sql: "SELECT name, mobile, id_number FROM customers WHERE mobile NOT IN ('13800138000') AND id_number IS NOT NULL ORDER BY id LIMIT 1")
        }
        let row = try #require(person)
        let name: String = row["name"], mobile: String = row["mobile"], idNumber: String = row["id_number"]
        let spaced = "+86 " + mobile.prefix(3) + " " + mobile.dropFirst(3).prefix(4) + " " + mobile.suffix(4)
        try network.stores["DLR-B"]!.execute(
            "INSERT INTO customers (id, name, mobile, id_number, home_dealer, customer_class) VALUES ('B-WALKIN', ?, ?, ?, 'DLR-B', 'B')",
            [name, spaced, idNumber.lowercased()])
        let app = try await buildApplication(network.config)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            _ = try await network.settle(port: port)
            while try await network.store.linkIdentities(chunk: 2_000) > 0 {}
            let config = try network.agentConfig("DLR-C", hqURL: "http://127.0.0.1:\(port)")
            let looked = try await ProcessRunner.run(binary, ["lookup", "--mobile", spaced, "--config", config])
            #expect(looked.status == 0, "\(looked.stderr)")
            #expect(looked.stdout.contains("known at DLR-A, DLR-B"), "\(looked.stdout)")
            #expect(looked.stdout.contains("B-WALKIN") && looked.stdout.contains("name=\(name)"), "\(looked.stdout)")
            #expect(!looked.stdout.contains(mobile) && !looked.stdout.contains(idNumber), "mobile and ID are not counter columns")
            let history = try await network.stores["DLR-C"]!.dms.read { db in
                try Row.fetchAll(db, sql: "SELECT dealer, table_name, values_json FROM _dealersync_counter_history")
            }
            #expect(Set(history.map { $0["dealer"] as String }) == ["DLR-A", "DLR-B"])
            #expect(history.contains { ($0["table_name"] as String) == "vehicles" }, "the car bought at DLR-A")
            #expect(history.allSatisfy { !($0["values_json"] as String).contains(mobile) })
            let log = try await network.store.lookupLog(limit: 10, who: "DLR-C")
            #expect(log.count == 1 && log.first?.queryKind == "mobile" && log.first?.person != nil)

            let none = try await ProcessRunner.run(binary, ["lookup", "--mobile", "13800138000", "--config", config])
            #expect(none.status != 0 && none.stderr.contains("placeholder"), "\(none.stderr)")
            let both = try await ProcessRunner.run(binary, ["lookup", "--mobile", mobile, "--vin", "X", "--config", config])
            #expect(both.status != 0 && both.stderr.contains("exactly one"), "\(both.stderr)")
        }
    }
}
