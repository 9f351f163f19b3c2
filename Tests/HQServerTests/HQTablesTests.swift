import Foundation
import GRDB
import HQServer
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// HQ's merged data as SQL tables (docs/HQ-TABLES.md, first step: declared columns): a
/// table per synced table in `hq.tables.sqlite`, kept in the merge's transaction, readable
/// by `sqlite3` or a BI tool while HQ runs.
@Suite("HQ's SQL tables")
struct HQTablesTests {
    static let schema = """
        version: 3
        tables:
          - name: customers
            direction: both
            owners:
              notes: origin
            key: [id]
            columns:
              - id: TEXT
              - name: TEXT
              - score: INTEGER
              - notes: TEXT
            indexes:
              - [name]
          - name: visits
            direction: up
            key: [id]
            columns:
              - id: INTEGER
              - note: TEXT
        """

    /// The tables file as a BI tool opens it: read-only, its own connection.
    static func reader(_ hq: HQFixture) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        // One test keeps a read transaction open across a push, as a slow BI query does.
        configuration.allowsUnsafeTransactions = true
        return try DatabaseQueue(path: try #require(hq.config.tablesPath), configuration: configuration)
    }

    @Test("rows appear, change and leave with the merge; provenance columns; up rows keyed by dealer; values keep their storage class")
    func followsTheMerge() async throws {
        let hq = try await HQFixture(schemaYAML: Self.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.live) { client in
            var one = FakeDealer("DLR-1")
            var two = FakeDealer("DLR-2")
            let first = one.insert("customers", key: [.text("C-1")], ["name": .text("张三"), "score": .integer(5), "notes": .text("n")])
            let second = two.insert("customers", key: [.text("C-2")], ["name": .text("李四"), "score": .text("high")])
            #expect(try await HostileDealerTests.push(client, hq, "DLR-1", [first], sequence: 1).applied == 1)
            #expect(try await HostileDealerTests.push(client, hq, "DLR-2", [second], sequence: 1).applied == 1)
            let tables = try Self.reader(hq)
            let rows = try await tables.read { db in
                try Row.fetchAll(db, sql: "SELECT id, name, score, typeof(score) AS class, _origin, _changed_by, _feed_seq FROM customers ORDER BY id")
            }
            #expect(rows.map { $0["id"] as String } == ["C-1", "C-2"])
            #expect(rows[0]["name"] as String == "张三" && rows[0]["score"] as Int64 == 5 && rows[0]["_origin"] as String == "DLR-1")
            // SQLite keeps text in an INTEGER column as text: nothing is lost.
            #expect(rows[1]["class"] as String == "text" && rows[1]["score"] as String == "high" && rows[1]["_changed_by"] as String == "DLR-2")

            let edited = one.update(first, ["name": .text("张三丰")])
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [edited], sequence: 2)
            let after = try await tables.read { db in try Row.fetchOne(db, sql: "SELECT name, _feed_seq FROM customers WHERE id = 'C-1'") }
            #expect(after?["name"] as String? == "张三丰" && (after?["_feed_seq"] as Int64? ?? 0) > (rows[0]["_feed_seq"] as Int64))
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [one.delete(edited)], sequence: 3)
            #expect(try await tables.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customers WHERE id = 'C-1'") } == 0)
            let deleted = try await tables.read { db in try Row.fetchOne(db, sql: "SELECT key_json, deleted_by FROM _dealersync_deleted WHERE table_name = 'customers'") }
            #expect(deleted?["key_json"] as String? == #"[{"type":"text","value":"C-1"}]"# && deleted?["deleted_by"] as String? == "DLR-1", "\(String(describing: deleted))")

            // `up`: the same local key at two stores is two rows, told apart by `_dealer`.
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [one.insert("visits", key: [.integer(1)], ["note": .text("a")])], sequence: 4)
            _ = try await HostileDealerTests.push(client, hq, "DLR-2", [two.insert("visits", key: [.integer(1)], ["note": .text("b")])], sequence: 2)
            let visits = try await tables.read { db in try Row.fetchAll(db, sql: "SELECT _dealer, id, typeof(id) AS class, note FROM visits ORDER BY _dealer") }
            #expect(visits.map { "\($0["_dealer"] as String)/\($0["id"] as Int64)/\($0["class"] as String)/\($0["note"] as String)" } == ["DLR-1/1/integer/a", "DLR-2/1/integer/b"])
            #expect(try hq.store.checkTables() == ["customers": 0, "visits": 0])
            // DLR-2's text in the INTEGER column is counted against DLR-2 and that column.
            let counts = try await tables.read { db in try Row.fetchAll(db, sql: "SELECT dealer, table_name, column_name, mismatches FROM _dealersync_mismatch_counts") }
            #expect(counts.map { "\($0["dealer"] as String) \($0["table_name"] as String).\($0["column_name"] as String) \($0["mismatches"] as Int)" } == ["DLR-2 customers.score 1"])
            _ = try await HostileDealerTests.push(client, hq, "DLR-2", [two.update(second, ["score": .integer(9)])], sequence: 3)
            #expect(try await tables.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM _dealersync_mismatches") } == 0, "a corrected value drops off")
            let status = try #require(try await hq.store.tablesStatus())
            let latest = try await hq.store.latestSequence()
            #expect(status.path == hq.config.tablesPath && status.rows == ["customers": 1, "visits": 2] && status.feedSequence == latest)
            let fleet = try await client.execute(uri: "/v1/status", method: .get, headers: hq.bearer("crm"))
            #expect(String(decoding: fleet.body.readableBytesView, as: UTF8.self).contains("\"path\":"), "/v1/status shows where the tables are")
        }
    }

    @Test("tables that lag the store (a power cut between the two commits) catch up on open; a damaged value is found by the check and fixed by a rebuild")
    func catchUpCheckRebuild() async throws {
        let hq = try await HQFixture(schemaYAML: Self.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.live) { client in
            var one = FakeDealer("DLR-1")
            let rows = (0..<30).map { one.insert("customers", key: [.text("C-\($0)")], ["name": .text("n\($0)"), "score": .integer(Int64($0))]) }
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", rows, sequence: 1)
        }
        let tablesPath = try #require(hq.config.tablesPath)
        // The tables file lost its last commits: rows gone, its sequence behind the store's.
        let raw = try DatabaseQueue(path: tablesPath)
        try await raw.write { db in
            try db.execute(sql: "DELETE FROM customers WHERE id >= 'C-2'")
            try db.execute(sql: "UPDATE _dealersync_state SET feed_seq = 2")
        }
        let reopened = try SQLiteSyncStore(path: hq.config.storePath, tables: (tablesPath, hq.config.schema))
        #expect(try await raw.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customers") } == 30)
        #expect(try reopened.checkTables() == ["customers": 0, "visits": 0])
        // Damage the check must see: a value and a storage class changed behind HQ's back.
        try await raw.write { db in
            try db.execute(sql: "UPDATE customers SET name = 'tampered' WHERE id = 'C-3'")
            try db.execute(sql: "UPDATE customers SET score = 7.5 WHERE id = 'C-7'")
        }
        #expect(try reopened.checkTables()["customers"] == 2)
        #expect(try reopened.rebuildTables() == 30)
        #expect(try reopened.checkTables() == ["customers": 0, "visits": 0])
    }

    @Test("concurrent edits, an origin-owned column another store may not write, deletes: the table equals the merged state row by row")
    func equalsTheMergedState() async throws {
        let hq = try await HQFixture(schemaYAML: Self.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.live) { client in
            var one = FakeDealer("DLR-1")
            var two = FakeDealer("DLR-2")
            var rows: [RowVersion] = []
            for index in 0..<20 {
                rows.append(one.insert("customers", key: [.text("C-\(index)")], ["name": .text("n\(index)"), "score": .integer(Int64(index)), "notes": .text("origin's")]))
            }
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", rows, sequence: 1)
            // Concurrent edits from a second store HQ shares the rows with, one of an origin-owned column.
            for index in 0..<5 { #expect(try await hq.store.share(table: "customers", key: RowKey([.text("C-\(index)")]), with: two.node)) }
            let edits = (0..<5).map { two.update(rows[$0], ["name": .text("edited by 2"), "notes": .text("not 2's to write")]) }
            _ = try await HostileDealerTests.push(client, hq, "DLR-2", edits, sequence: 1)
            let deletes = (5..<8).map { one.delete(rows[$0]) }
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", deletes, sequence: 2)

            let schema = try SyncSchema(yaml: Self.schema)
            let policy = try #require(schema.table(named: "customers")).policy
            let tables = try Self.reader(hq)
            for index in 0..<20 {
                let key = RowKey([.text("C-\(index)")])
                let merged = try await hq.store.rowVersion(table: "customers", key: key, dealer: one.node, schema: schema)
                let row = try await tables.read { db in try Row.fetchOne(db, sql: "SELECT name, score, notes FROM customers WHERE id = ?", arguments: ["C-\(index)"]) }
                if let merged, merged.isAlive(policy: policy) {
                    let shown = merged.values(policy: policy)
                    #expect(row?["name"] as String? == shown["name"].flatMap { if case .text(let text) = $0 { text } else { nil } }, "C-\(index)")
                    #expect(row?["notes"] as String? == "origin's", "C-\(index): the origin-owned column shows the origin's value")
                } else {
                    #expect(row == nil, "C-\(index) is deleted but still in the table")
                }
            }
        }
    }

    @Test("a reader holding a read transaction on the tables file does not block a push")
    func readerDoesNotBlockIngest() async throws {
        let hq = try await HQFixture(schemaYAML: Self.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.live) { client in
            var one = FakeDealer("DLR-1")
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [one.insert("customers", key: [.text("C-0")], ["name": .text("a")])], sequence: 1)
            let tables = try Self.reader(hq)
            // A BI query that is still reading: its snapshot stays open across the push.
            let before = try tables.inDatabase { db in
                try db.execute(sql: "BEGIN")
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM customers")
            }
            #expect(before == 1)
            // A blocked merge would fail with SQLITE_BUSY after the store's busy timeout, not
            // merely be slow: so the receipt itself is the proof, no clock needed.
            let receipt = try await HostileDealerTests.push(client, hq, "DLR-1", [one.insert("customers", key: [.text("C-1")], ["name": .text("b")])], sequence: 2)
            #expect(receipt.applied == 1, "WAL lets the merge commit under an open reader")
            let committed = try await HQTablesTests.reader(hq).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customers") }
            #expect(committed == 2, "a new reader sees the merge while the old one still holds its snapshot")
            let during = try tables.inDatabase { db in
                defer { try? db.execute(sql: "COMMIT") }
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM customers")
            }
            #expect(during == 1, "the reader keeps its snapshot")
            #expect(try await tables.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customers") } == 2)
        }
    }
}
