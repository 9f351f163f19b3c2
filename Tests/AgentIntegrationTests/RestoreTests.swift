import Foundation
import GRDB
import HQServer
import Hummingbird
import HummingbirdTesting
import SyncCapture
import SyncCore
import SyncTestSupport
import Testing

/// The DMS file put back from an older backup (a failed disk, a bad upgrade undone). Its
/// dealersync state is rolled back with it, so the store would re-send old values as new
/// edits, resurrect rows deleted since, and reuse write counters HQ already holds. The
/// agent must notice (the state file beside the DMS file, or HQ when the whole directory
/// was restored) and recover without an operator: HQ's newer rows come back, nothing old is
/// sent, and edits typed into the restored copy are either kept (HQ had nothing newer) or
/// listed as `restored-backup` conflicts (HQ's newer row won).
@Suite("DMS file restored from a backup")
struct RestoreTests {
    enum Witness: String, CaseIterable, CustomTestStringConvertible {
        /// Only the DMS file was restored: the state file beside it remembers more.
        case stateFile
        /// The whole directory was restored (state file too): HQ remembers more.
        case hq
        var testDescription: String { rawValue }
    }

    @Test("after a restore: HQ's newer rows come back, deleted rows stay deleted, genuine edits reach HQ, replaced ones are conflicts", arguments: Witness.allCases)
    func restoredFile(_ witness: Witness) async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"])
        try await network.withSettledHQ { port in
            let dms = network.stores["DLR-A"]!
            let database = network.databases["DLR-A"]!
            let backup = try DatabaseQueue(path: dms.directory.file("backup.sqlite"))
            try dms.dms.backup(to: backup)

            // Work done after the backup, all at HQ: edits, deletes, new customers.
            let ids = try dms.rows("SELECT id FROM customers ORDER BY id").map { $0["id"] as String }
            try #require(ids.count >= 8)
            let (edited, deleted, untouched) = (Array(ids[0..<3]), Array(ids[3..<5]), ids[5])
            for id in edited { try dms.execute("UPDATE customers SET name = 'after backup ' || id WHERE id = ?", [id]) }
            for id in deleted {
                try dms.execute("DELETE FROM vehicles WHERE customer_id = ?", [id])
                try dms.execute("DELETE FROM customers WHERE id = ?", [id])
            }
            try dms.execute("INSERT INTO customers (id, name) VALUES ('born-1', '孙七'), ('born-2', '周八')")
            _ = try await network.settle(port: port)
            let beforeRestore = try await network.digests("DLR-A")
            #expect(beforeRestore.dealer == beforeRestore.hq)

            // The restore, then the DMS goes on: one edit of a row HQ has newer, one of a row
            // nobody touched since the backup.
            try DatabaseQueue(path: dms.directory.file("backup.sqlite")).backup(to: dms.dms)
            if witness == .hq { try FileManager.default.removeItem(atPath: dms.path + ".dealersync-state") }
            try dms.execute("UPDATE customers SET name = 'typed into the restored copy' WHERE id = ?", [edited[0]])
            try dms.execute("UPDATE customers SET name = 'genuine edit after the restore' WHERE id = ?", [untouched])

            if witness == .stateFile {
                // The agent is stopped: `status` sees the state file's witness by itself.
                let stopped = try database.status()
                #expect(stopped.health == .broken && stopped.problems.contains { $0.message.contains("older than what this store already sent") }, "\(stopped.problems)")
            }

            _ = try await network.settle(port: port)
            #expect(try database.recovery() == nil, "the recovery did not finish")
            let after = try await network.digests("DLR-A")
            #expect(after.dealer == after.hq, "store and HQ differ after the recovery")
            for id in edited {
                #expect(try dms.rows("SELECT name FROM customers WHERE id = ?", [id]).first?["name"] == "after backup \(id)", "\(id): HQ's newer row did not come back")
            }
            #expect(try dms.count("SELECT count(*) FROM customers WHERE id IN ('\(deleted.joined(separator: "','"))')") == 0, "rows deleted since the backup came back")
            #expect(try dms.count("SELECT count(*) FROM customers WHERE id LIKE 'born-%'") == 2, "rows created since the backup did not come back")
            #expect(try dms.rows("SELECT name FROM customers WHERE id = ?", [untouched]).first?["name"] == "genuine edit after the restore")
            let replaced = try database.conflicts().filter { $0.reason == "restored-backup" }
            #expect(replaced.count == 1 && replaced.first?.losingValues == [.text("typed into the restored copy")], "\(replaced)")
            // Nothing the store sends now can reuse a counter HQ holds: a new edit applies.
            try dms.execute("UPDATE customers SET name = 'later' WHERE id = 'born-1'")
            #expect(try await network.cycle("DLR-A", port: port).run().pushedRows == 1)
            let final = try await network.digests("DLR-A")
            #expect(final.dealer == final.hq)
        }
    }
}
