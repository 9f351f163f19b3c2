import Configuration
import Foundation
import GRDB
@testable import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// Retention (docs/HQ.md, "Retention"): the feed keeps every change for `feed_days` and each
/// row's current version before that; older cursors get 410; deleted rows go once every store
/// that may need the delete has it. Times are injected (`IngestBatch.receivedAtMillis`, the
/// compaction's cutoff), never waited for.
@Suite("retention: feed compaction, 410, tombstone purges")
struct RetentionTests {
    static let dayMillis: Int64 = 86_400_000

    /// HQ's clock on day `day` of a test.
    static func time(day: Int64) -> Int64 { 1_700_000_000_000 + day * dayMillis }

    /// Merges `rows` as `dealer`'s batch `sequence`, arrived at `millis`, the way a push does
    /// after its checks (no HTTP, so the arrival time can be set).
    @discardableResult
    static func ingest(_ hq: HQFixture, _ dealer: String, _ rows: [RowVersion], sequence: UInt64, at millis: Int64) async throws -> PushReceipt {
        var accepted: [AcceptedRow] = []
        for (index, row) in rows.enumerated() {
            guard let spec = hq.config.schema.table(named: row.table) else { throw TestFailure("table \(row.table) is not in the test schema") }
            accepted.append(AcceptedRow(index: index, version: row, spec: spec))
        }
        let outcome = try await hq.store.ingest(IngestBatch(
            dealer: try NodeID(dealer), firstSequence: sequence, lastSequence: sequence, sha256: "retention-\(dealer)-\(sequence)",
            compressedBytes: 0, rows: accepted, deadLetters: [], receivedAtMillis: millis, clockSkewMillis: nil, maxRowBytes: HQLimits().maxRowBytes))
        guard case .applied(_, let summary) = outcome else { throw TestFailure("batch \(sequence) of \(dealer) was not applied") }
        return summary
    }

    /// A row as the feed last showed it.
    struct Folded: Equatable {
        var seq: UInt64
        var deleted: Bool
        var values: [String: TypedValue]
    }

    /// `/v1/feed` from `c1.0` in pages of `limit`, folded to each row's latest entry, and the
    /// cursors the pages gave.
    static func fold(_ client: some TestClientProtocol, _ hq: HQFixture, limit: Int) async throws -> (rows: [String: Folded], cursors: [String]) {
        var cursor = "c1.0"
        var rows: [String: Folded] = [:]
        var cursors: [String] = []
        for _ in 0..<10_000 {
            let response = try await client.execute(uri: "/v1/feed?after=\(cursor)&limit=\(limit)", method: .get, headers: hq.bearer("crm"))
            guard response.status == .ok else { throw TestFailure("feed after \(cursor) answered \(response.status): \(String(buffer: response.body))") }
            let page = try JSONDecoder().decode(FeedPageJSON.self, from: Data(response.body.readableBytesView))
            if page.changes.isEmpty { return (rows, cursors) }
            for change in page.changes {
                // SQLValue's description hides values (never logged), so the key is spelled out.
                let key = change.key.map { if case .text(let text) = $0.value { text } else { "\($0.value.storageClass)" } }.joined(separator: ",")
                rows["\(change.table)/\(key)"] = Folded(seq: change.seq, deleted: change.deleted, values: change.values)
            }
            cursor = page.next_cursor
            cursors.append(cursor)
        }
        throw TestFailure("the feed did not end")
    }

    @Test("compaction drops superseded entries older than the window and keeps every row's current version: c1.0 folds to the same rows, page by page")
    func compactionKeepsCurrentVersions() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            var one = FakeDealer("DLR-1")
            var rows = (0..<6).map { one.insert("customers", key: [.text("C-\($0)")], ["name": .text("v0")]) }
            try await Self.ingest(hq, "DLR-1", rows, sequence: 1, at: Self.time(day: 0))  // seq 1–6
            for index in 0..<4 { rows[index] = one.update(rows[index], ["name": .text("v1")]) }
            try await Self.ingest(hq, "DLR-1", Array(rows[0..<4]), sequence: 2, at: Self.time(day: 1))  // 7–10
            for index in 0..<2 { rows[index] = one.update(rows[index], ["name": .text("v2")]) }
            try await Self.ingest(hq, "DLR-1", Array(rows[0..<2]), sequence: 3, at: Self.time(day: 2))  // 11–12
            rows[0] = one.update(rows[0], ["name": .text("v3")])
            let added = one.insert("customers", key: [.text("C-6")], ["name": .text("v0")])
            try await Self.ingest(hq, "DLR-1", [rows[0], added], sequence: 4, at: Self.time(day: 40))  // 13–14

            let before = try await Self.fold(client, hq, limit: 2)
            #expect(before.rows.count == 7)
            #expect(try await hq.store.count("feed") == 14)
            // Walks 1–12 (13 is inside the window); the current versions among them are
            // 5, 6 (C-4, C-5), 9, 10 (C-2, C-3) and 12 (C-1).
            #expect(try await hq.store.compactFeed(olderThanMillis: Self.time(day: 10), chunk: 4) == 7)
            #expect(try await hq.store.feedHorizon() == 12)
            #expect(try await hq.store.count("feed") == 7)
            let after = try await Self.fold(client, hq, limit: 2)
            #expect(after.rows == before.rows, "after=c1.0 still reads every row's current version")
            #expect(after.cursors.contains(where: { $0.hasPrefix("s1.") }), "a walk below the horizon is given snapshot cursors: \(after.cursors)")
            #expect(after.cursors.last == "c1.14")
            #expect(try await hq.store.compactFeed(olderThanMillis: Self.time(day: 10)) == 0, "nothing newly old")

            // A row whose current entry is below the horizon changes: its old entry goes with it.
            rows[4] = one.update(rows[4], ["name": .text("v1")])
            try await Self.ingest(hq, "DLR-1", [rows[4]], sequence: 5, at: Self.time(day: 41))  // 15
            #expect(try await hq.store.count("feed") == 7)
            let changed = try await Self.fold(client, hq, limit: 3)
            #expect(changed.rows["customers/C-4"]?.seq == 15)
            #expect(changed.rows.count == 7)
        }
    }

    @Test("a feed cursor below the horizon is 410 with the horizon and what to do; c1.0 and the horizon itself are 200; a snapshot walk the horizon moved under is 410")
    func goneBelowTheHorizon() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            var one = FakeDealer("DLR-1")
            var rows = (0..<4).map { one.insert("customers", key: [.text("C-\($0)")], ["name": .text("v0")]) }
            try await Self.ingest(hq, "DLR-1", rows, sequence: 1, at: Self.time(day: 0))  // 1–4
            for index in 0..<2 { rows[index] = one.update(rows[index], ["name": .text("v1")]) }
            try await Self.ingest(hq, "DLR-1", Array(rows[0..<2]), sequence: 2, at: Self.time(day: 1))  // 5–6
            try await Self.ingest(hq, "DLR-1", [one.update(rows[2], ["name": .text("v1")])], sequence: 3, at: Self.time(day: 40))  // 7
            try await hq.store.compactFeed(olderThanMillis: Self.time(day: 10))
            #expect(try await hq.store.feedHorizon() == 6)

            let gone = try await client.execute(uri: "/v1/feed?after=c1.3", method: .get, headers: hq.bearer("crm"))
            #expect(gone.status == .gone)
            #expect(gone.headers[.dealersyncFeedHorizon] == "c1.6")
            let body = try errorBody(gone)
            #expect(body.error == "the feed no longer holds changes between sequence 3 and 6: entries older than 30 days were compacted")
            #expect(body.hint.contains("_dealersync_state") && body.hint.contains("after=c1.0"))

            #expect(try await client.execute(uri: "/v1/feed?after=c1.6", method: .get, headers: hq.bearer("crm")).status == .ok)
            let first = try await client.execute(uri: "/v1/feed?after=c1.0&limit=1", method: .get, headers: hq.bearer("crm"))
            #expect(first.status == .ok)
            let snapshot = try #require(first.headers[.dealersyncCursor])
            #expect(snapshot == "s1.4.6", "C-3's entry at 4 is the first one left")
            #expect(try await client.execute(uri: "/v1/feed?after=\(snapshot)", method: .get, headers: hq.bearer("crm")).status == .ok)

            // The next pass moves the horizon: the walk may have missed a purge, so it starts again.
            try await Self.ingest(hq, "DLR-1", [one.update(rows[3], ["name": .text("v1")])], sequence: 4, at: Self.time(day: 50))  // 8
            try await hq.store.compactFeed(olderThanMillis: Self.time(day: 45))
            #expect(try await hq.store.feedHorizon() == 7)
            let moved = try await client.execute(uri: "/v1/feed?after=\(snapshot)", method: .get, headers: hq.bearer("crm"))
            #expect(moved.status == .gone)
            #expect(moved.headers[.dealersyncFeedHorizon] == "c1.7")
            #expect(try errorBody(moved).hint.contains("after=c1.0"))
            #expect(try await client.execute(uri: "/v1/feed?after=s1.3", method: .get, headers: hq.bearer("crm")).status == .badRequest)
            #expect(try await client.execute(uri: "/v1/feed?after=c1.0", method: .get, headers: hq.bearer("crm")).status == .ok)
        }
    }

    @Test("a deleted row goes only once every holding store has pulled the delete; a revoked store does not hold it up, and its holders go")
    func tombstonesWaitForHolders() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        var one = FakeDealer("DLR-1")
        let shared = one.insert("customers", key: [.text("C-1")], ["name": .text("a")])
        let other = one.insert("customers", key: [.text("C-3")], ["name": .text("b")])
        try await Self.ingest(hq, "DLR-1", [shared, other], sequence: 1, at: Self.time(day: 0))  // 1–2
        #expect(try await hq.store.share(table: "customers", key: shared.key, with: hq.dealer2))
        #expect(try await hq.store.share(table: "customers", key: other.key, with: try NodeID("DLR-3")))
        try await Self.ingest(hq, "DLR-1", [one.delete(shared), one.delete(other)], sequence: 2, at: Self.time(day: 1))  // 3–4
        let live = one.insert("customers", key: [.text("C-2")], ["name": .text("c")])
        try await Self.ingest(hq, "DLR-1", [live], sequence: 3, at: Self.time(day: 40))  // 5
        #expect(try await hq.store.share(table: "customers", key: live.key, with: try NodeID("DLR-3")))

        let schema = hq.config.schema
        let waiting = try await hq.store.applyRetention(olderThanMillis: Self.time(day: 10), schema: schema)
        #expect(waiting.feedHorizon == 4 && waiting.tombstonesPurged == 0 && waiting.tombstonesWaiting == 2)
        // DLR-1's batches of days 0 and 1 are forgotten; its newest says what HQ acknowledged.
        let batchesLeft = try await hq.store.count("batches")
        #expect(waiting.batchesRemoved == 2 && batchesLeft == 1)
        #expect(try await hq.store.acknowledgedSequence(dealer: one.node) == 3)
        #expect(try await hq.store.retentionStatus(feedDays: 30, schema: schema).tombstonesWaitingOn == ["DLR-2", "DLR-3"])

        // DLR-3 stopped syncing: revoked, it holds nothing up, and what it held is forgotten.
        try await hq.store.revokePrincipal(id: "DLR-3")
        let revoked = try await hq.store.applyRetention(olderThanMillis: Self.time(day: 10), schema: schema)
        #expect(revoked.tombstonesPurged == 1 && revoked.tombstonesWaiting == 1 && revoked.revokedHoldersRemoved == 1)
        #expect(try await hq.store.rowVersion(table: "customers", key: other.key, dealer: one.node, schema: schema) == nil)
        #expect(try await hq.store.rowVersion(table: "customers", key: shared.key, dealer: one.node, schema: schema) != nil)
        #expect(try await hq.store.retentionStatus(feedDays: 30, schema: schema).tombstonesWaitingOn == ["DLR-2"])

        // DLR-2 pulls past the delete (its next pull sends after=c1.3).
        try await hq.store.recordPull(dealer: hq.dealer2, cursor: 3, atMillis: Self.time(day: 41), clockSkewMillis: nil, capture: nil)
        let pulled = try await hq.store.applyRetention(olderThanMillis: Self.time(day: 10), schema: schema)
        #expect(pulled.tombstonesPurged == 1 && pulled.tombstonesWaiting == 0)
        #expect(try await hq.store.rowVersion(table: "customers", key: shared.key, dealer: one.node, schema: schema) == nil)
        #expect(try await hq.store.count("rows") == 1)
        #expect(try await hq.store.count("feed") == 1, "only C-2's entry is left")
        // DLR-1's hold on C-2; DLR-3's share of it went with the revoke.
        #expect(try await hq.store.count("holders") == 1)
        #expect(try await hq.store.latestSequence() == 5)
    }

    @Test("a broadcast row's delete waits for every active dealer's pull")
    func broadcastTombstones() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let schema = hq.config.schema
        let prices = try #require(schema.table(named: "prices"))
        func write(_ key: Int64, _ values: [String: SQLValue], delete: Bool, day: Int64) -> HQWrite {
            HQWrite(
                spec: prices, key: RowKey([.integer(key)]), values: values, delete: delete, atMillis: Self.time(day: day), maxRowBytes: HQLimits().maxRowBytes)
        }
        _ = try await hq.store.writeAsHQ(write(1, ["price": .integer(100)], delete: false, day: 0))  // 1
        _ = try await hq.store.writeAsHQ(write(1, [:], delete: true, day: 1))  // 2
        _ = try await hq.store.writeAsHQ(write(2, ["price": .integer(7)], delete: false, day: 40))  // 3
        #expect(try await hq.store.applyRetention(olderThanMillis: Self.time(day: 10), schema: schema).tombstonesWaiting == 1)
        for dealer in ["DLR-1", "DLR-2"] {
            try await hq.store.recordPull(dealer: try NodeID(dealer), cursor: 3, atMillis: Self.time(day: 41), clockSkewMillis: nil, capture: nil)
        }
        let one = try await hq.store.applyRetention(olderThanMillis: Self.time(day: 10), schema: schema)
        #expect(one.tombstonesPurged == 0 && one.tombstonesWaiting == 1, "DLR-3 has not pulled it")
        #expect(try await hq.store.retentionStatus(feedDays: 30, schema: schema).tombstonesWaitingOn == ["DLR-3"])
        try await hq.store.recordPull(dealer: try NodeID("DLR-3"), cursor: 2, atMillis: Self.time(day: 41), clockSkewMillis: nil, capture: nil)
        #expect(try await hq.store.applyRetention(olderThanMillis: Self.time(day: 10), schema: schema).tombstonesPurged == 1)
        #expect(try await hq.store.count("rows") == 1)
    }

    @Test("with HQ's tables on, a purged delete leaves _dealersync_deleted; the feed's newest entry is never purged")
    func purgeLeavesTheTables() async throws {
        let hq = try await HQFixture(schemaYAML: HQTablesTests.schema, tables: true)
        defer { hq.cleanUp() }
        let schema = hq.config.schema
        var one = FakeDealer("DLR-1")
        let row = one.insert("customers", key: [.text("C-1")], ["name": .text("a")])
        try await Self.ingest(hq, "DLR-1", [row], sequence: 1, at: Self.time(day: 0))  // 1
        try await Self.ingest(hq, "DLR-1", [one.delete(row)], sequence: 2, at: Self.time(day: 1))  // 2
        let tables = try HQTablesTests.reader(hq)
        let deleted: () async throws -> Int = { try await tables.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM _dealersync_deleted") ?? 0 } }
        #expect(try await deleted() == 1)

        // Everything is old: the horizon reaches the delete, which is the feed's newest entry.
        let newest = try await hq.store.applyRetention(olderThanMillis: Self.time(day: 10), schema: schema)
        #expect(newest.feedHorizon == 2 && newest.tombstonesPurged == 0 && newest.tombstonesWaiting == 1)
        #expect(try await hq.store.latestSequence() == 2)

        try await Self.ingest(hq, "DLR-1", [one.insert("customers", key: [.text("C-2")], ["name": .text("b")])], sequence: 3, at: Self.time(day: 40))  // 3
        let purged = try await hq.store.applyRetention(olderThanMillis: Self.time(day: 10), schema: schema)
        #expect(purged.tombstonesPurged == 1 && purged.tombstonesWaiting == 0)
        #expect(try await deleted() == 0)
        #expect(try await hq.store.latestSequence() == 3)
        #expect(try hq.store.checkTables().values.allSatisfy({ $0 == 0 }))
    }

    @Test("HQConfig reads retention.feed_days and retention.interval_seconds and refuses negative days")
    func config() async throws {
        let directory = TemporaryDirectory("retention-config")
        try testSchemaYAML.write(toFile: directory.file("schema.yaml"), atomically: true, encoding: .utf8)
        let base: [AbsoluteConfigKey: ConfigValue] = ["store.path": "hq.sqlite", "schema_file": "schema.yaml"]
        var values = base
        values["retention.feed_days"] = 7
        values["retention.interval_seconds"] = 60
        let config = try HQConfig(reader: ConfigReader(providers: [InMemoryProvider(values: values)]), relativeTo: directory.path)
        #expect(config.retention == HQRetention(feedDays: 7, intervalSeconds: 60))
        #expect(try HQConfig(reader: ConfigReader(providers: [InMemoryProvider(values: base)]), relativeTo: directory.path).retention == HQRetention())
        values["retention.feed_days"] = -1
        let negative = ConfigReader(providers: [InMemoryProvider(values: values)])
        #expect {
            try HQConfig(reader: negative, relativeTo: directory.path)
        } throws: { error in
            (error as? HQConfigError)?.message.contains("retention.feed_days") == true
        }
    }
}
