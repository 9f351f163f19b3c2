import Foundation
import GRDB
import Testing
@testable import SyncCapture
import SyncCore
import SyncTestSupport

@Suite("dealersync init and init --remove")
struct InitTests {
    func installError(_ yaml: String) throws -> CaptureError? {
        let dms = try TestDMS(schemaSQL: Fixtures.dmsSQL)
        let before = try dms.schemaListing()
        do {
            _ = try dms.open().install(schema: try SyncSchema(yaml: yaml))
            return nil
        } catch let error as CaptureError {
            #expect(try dms.schemaListing() == before, "a refused init changes nothing")
            return error
        }
    }

    @Test("a missing table, a table without a primary key and a both table keyed by rowid are refused with the fix")
    func refusals() throws {
        let missing = try installError("version: 1\ntables:\n  - name: Customers\n    direction: both\n")
        #expect(missing?.code == .tableMissing && missing?.hint.contains("case-sensitive") == true)
        let nokey = try installError("version: 1\ntables:\n  - name: nokey\n    direction: up\n")
        #expect(nokey?.code == .noPrimaryKey && nokey?.message.contains("'nokey'") == true)
        let rowid = try installError("version: 1\ntables:\n  - name: audit\n    direction: both\n")
        #expect(rowid?.code == .rowidKeyOnSharedTable)
        #expect(rowid?.hint.contains("direction: up") == true && rowid?.hint.contains("UUID") == true)
    }

    @Test("init is idempotent and --remove restores the DMS schema exactly")
    func idempotentAndRemove() throws {
        let dms = try TestDMS(schemaSQL: Fixtures.dmsSQL)
        try dms.execute("INSERT INTO customers (id, name) VALUES ('c1', '李雷')")
        let before = try dms.schemaListing()
        let database = try dms.open()
        let first = try database.install(schema: Fixtures.schema)
        #expect(!first.alreadyInstalled && first.snapshotRows == 1)
        let installed = try dms.schemaListing()
        #expect(installed.count > before.count)
        let second = try database.install(schema: Fixtures.schema)
        #expect(second.alreadyInstalled && second.snapshotRows == 0, "a re-run snapshots nothing again")
        #expect(try dms.schemaListing() == installed)
        #expect(try database.remove() > 0)
        #expect(try dms.schemaListing() == before)
        #expect(try dms.count("SELECT count(*) FROM customers") == 1)
    }

    @Test("init refuses a database set up for another node")
    func otherNode() throws {
        let (dms, _) = try Fixtures.installed(node: "DLR-1")
        #expect(throws: CaptureError.self) { try dms.open(node: "DLR-2").install(schema: Fixtures.schema) }
    }

    @Test("the snapshot copies existing rows in chunks with progress, and they stamp as inserts")
    func snapshotInChunks() throws {
        let dms = try TestDMS(schemaSQL: Fixtures.dmsSQL)
        try dms.dms.write { db in
            for index in 0..<2_000 {
                try db.execute(sql: "INSERT INTO customers (id, name, visits) VALUES (?, ?, ?)", arguments: ["c\(index)", "客户\(index)", index])
                try db.execute(sql: "INSERT INTO \"order\" VALUES ('S1', ?, '名', 1.5)", arguments: [index])
            }
        }
        let database = try dms.open(maxLockMillis: 2)
        var progress: [CaptureProgress] = []
        let report = try database.install(schema: Fixtures.schema) { progress.append($0) }
        #expect(report.snapshotRows == 4_000)
        #expect(progress.filter { $0.table == "customers" }.count > 1, "several chunks")
        #expect(progress.last(where: { $0.table == "customers" })?.done == 2_000)
        #expect(try database.pendingChangeCount() == 4_000)
        var versions: [RowVersion] = []
        while true {
            let batch = try Fixtures.stamp(database)
            if batch.isEmpty { break }
            versions += batch
        }
        #expect(versions.count == 4_000)
        #expect(Set(versions.map(\.key)).count == 4_000)
        #expect(try database.pendingChangeCount() == 0)
    }
}
