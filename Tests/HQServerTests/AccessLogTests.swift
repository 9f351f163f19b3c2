import Foundation
@testable import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// Access records (docs/PRIVACY.md): every read of personal data by a reader is recorded
/// with who, when, which tables and how many rows, and dropped after access_log_days.
@Suite("Access records")
struct AccessLogTests {
    @Test("each feed page a reader takes is recorded with its tables and rows; a store's own pull and an empty page are not")
    func feedPages() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            var one = FakeDealer("DLR-1")
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", (0..<3).map { one.insert("customers", key: [.text("C-\($0)")], ["name": .text("李雷")]) }, sequence: 1)
            _ = try await HostileDealerTests.pullAll(client, hq, "DLR-2")
            var cursor = ""
            for _ in 0..<5 {
                let response = try await client.execute(uri: "/v1/feed?limit=2&after=\(cursor)", method: .get, headers: hq.bearer("crm"))
                #expect(response.status == .ok)
                guard let next = response.headers[.dealersyncCursor], next != cursor else { break }
                cursor = next
            }
            let records = try await hq.store.accessLog(sinceMillis: 0, who: nil, limit: 100)
            #expect(records.map(\.who) == ["crm", "crm"], "two pages with rows; the last, empty one and DLR-2's pull are not reads of others' data")
            #expect(records.map(\.rows).sorted() == [1, 2] && records.allSatisfy { $0.kind == .feed && $0.tables == ["customers"] })
            #expect(records.last?.detail == "seq 1-2" && records.first?.detail == "seq 3-3")
            let raw = String(describing: records)
            #expect(!raw.contains("李雷"), "records hold ids, tables and counts, never values")
            #expect(try await hq.store.accessLog(sinceMillis: 0, who: "someone-else", limit: 100).isEmpty)
        }
    }

    @Test("records older than access_log_days are dropped; the setting is checked")
    func retention() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let day: Int64 = 86_400_000
        let now = Date.nowMillis
        for (age, who) in [(400, "old"), (10, "recent")] {
            try await hq.store.recordAccess(AccessRecord(atMillis: now - Int64(age) * day, who: who, kind: .customer, tables: ["customers"], rows: 1, detail: "mobile"))
        }
        #expect(try await hq.store.purgeAccessLog(olderThanMillis: now - 365 * day) == 1)
        #expect(try await hq.store.accessLog(sinceMillis: 0, who: nil, limit: 10).map(\.who) == ["recent"])

        let directory = TemporaryDirectory("access-config")
        try "version: 1\ntables:\n  - name: customers\n    direction: both\n".write(toFile: directory.file("schema.yaml"), atomically: true, encoding: .utf8)
        for (value, accepted) in [("0", true), ("730", true), ("-1", false)] {
            let config = directory.file("hq-\(value).yaml")
            try "store:\n  path: \(directory.file("hq.sqlite"))\nschema_file: \(directory.file("schema.yaml"))\nretention:\n  access_log_days: \(value)\n"
                .write(toFile: config, atomically: true, encoding: .utf8)
            let result = try await ProcessRunner.run(try #require(ProcessRunner.dealersyncBinary), ["hq", "group", "list", "--config", config])
            if accepted {
                #expect(result.status == 0, "\(value): \(result.stderr)")
            } else {
                #expect(result.status != 0 && result.stderr.contains("retention.access_log_days"), "\(value): \(result.stderr)")
            }
        }
    }
}

extension AccessLogTests {
    @Test("dead letters and conflict records older than personal_data_days are dropped; newer ones stay")
    func personalRecords() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let day: Int64 = 86_400_000
        let now = Date.nowMillis
        try await hq.store.pool.write { db in
            for (id, age) in [(1, 400), (2, 10)] {
                try db.execute(
                    sql: "INSERT INTO dead_letters (id, dealer, batch, row_index, table_name, reason, version, at_ms) VALUES (?, 'DLR-1', '1-1', 0, 'customers', 'test', x'00', ?)",
                    arguments: [id, now - Int64(age) * day])
                try db.execute(
                    sql: """
                        INSERT INTO conflicts (id, identity, table_name, row_key, column_name, reason, winner, losers, winning_value, losing_values, source, feed_seq, at_ms)
                        VALUES (?, ?, 'customers', x'00', 'name', 'test', 'DLR-1', '[]', '"张三"', '[]', 'DLR-1', 1, ?)
                        """,
                    arguments: [id, "c-\(id)", now - Int64(age) * day])
            }
        }
        let purged = try await hq.store.purgePersonalRecords(olderThanMillis: now - 365 * day)
        #expect(purged.deadLetters == 1 && purged.conflicts == 1)
        #expect(try await hq.store.count("dead_letters") == 1)
        #expect(try await hq.store.count("conflicts") == 1)
    }
}
