import Configuration
import Foundation
@testable import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

@Suite("feed, HQ writes, conflicts, status, config")
struct FeedAndStatusTests {
    @Test("the feed keeps INTEGER, REAL, TEXT, BLOB and NULL distinct and exact, and gzips on request")
    func typedFeed() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let write = try await client.hqWrite(
                #"""
                {"table":"prices","key":[{"type":"integer","value":7}],"values":{
                  "big":{"type":"integer","value":9223372036854775807},
                  "one":{"type":"real","value":1.0},
                  "negzero":{"type":"real","value":-0.0},
                  "text":"1",
                  "blob":{"type":"blob","value":"AAEC/w=="},
                  "none":null}}
                """#, token: hq.tokens["hq-crm"]!)
            #expect(write.status == .ok)
            let plain = try await client.execute(uri: "/v1/feed", method: .get, headers: hq.bearer("crm"))
            #expect(plain.status == .ok)
            #expect(plain.headers[.contentEncoding] == nil)
            let page = try JSONDecoder().decode(FeedPageJSON.self, from: Data(plain.body.readableBytesView))
            let values = try #require(page.changes.first).values.mapValues(\.value)
            #expect(values["big"] == .integer(.max))
            #expect(values["one"] == .real(1.0))
            #expect(values["negzero"] == .real(-0.0))
            #expect(values["text"] == .text("1"))
            #expect(values["blob"] == .blob([0, 1, 2, 255]))
            #expect(values["none"] == .null)
            #expect(page.changes.first?.key.map(\.value) == [.integer(7)])
            #expect(page.changes.first?.source == "hq")

            var headers = hq.bearer("crm")
            headers[.acceptEncoding] = "br, gzip;q=0.8"
            let zipped = try await client.execute(uri: "/v1/feed", method: .get, headers: headers)
            #expect(zipped.headers[.contentEncoding] == "gzip")
            let unzipped = try Gzip.decompress(Array(zipped.body.readableBytesView), maxOutputBytes: 1 << 20)
            #expect(unzipped == Array(plain.body.readableBytesView))

            let dealer = try await client.execute(uri: "/v1/feed", method: .get, headers: hq.bearer("DLR-1"))
            #expect(dealer.status == .forbidden)
        }
    }

    @Test("refused HQ writes answer 400/403 and change nothing")
    func refusedHQWrites() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let digest = try await hq.store.contentDigest()
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let writer = hq.tokens["hq-crm"]!
            let cases: [(String, String, HTTPResponse.Status)] = [
                (#"{"table":"nope","key":["X"]}"#, writer, .badRequest),
                (#"{"table":"visits","key":["X"]}"#, writer, .badRequest),
                (#"{"table":"leads","key":[]}"#, writer, .badRequest),
                (#"{"table":"leads","key":["L-1"],"values":{"assigned_dealer":5}}"#, writer, .badRequest),
                (#"{"table":"leads","key":["L-1"],"values":{"x":{"type":"real","value":"secret"}}}"#, writer, .badRequest),
                (#"not json"#, writer, .badRequest),
                (#"{"table":"leads","key":["L-1"]}"#, hq.tokens["crm"]!, .forbidden),
                (#"{"table":"leads","key":["L-1"]}"#, hq.tokens["DLR-1"]!, .forbidden),
            ]
            for (body, token, status) in cases {
                let response = try await client.hqWrite(body, token: token)
                #expect(response.status == status, "\(body)")
                #expect(!String(decoding: response.body.readableBytesView, as: UTF8.self).contains("secret"))
            }
        }
        #expect(try await hq.store.contentDigest() == digest)
    }

    @Test("concurrent edits of one column are logged as a conflict, and the holder gets the merged row")
    func conflicts() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        var one = FakeDealer("DLR-1")
        var two = FakeDealer("DLR-2")
        two.hlc += 1000  // DLR-2's edit is later: it wins last-writer-wins.
        let created = one.insert("customers", key: [.text("C-1")], ["phone": .text("111")])
        let editOne = one.update(created, ["phone": .text("222")])
        let editTwo = two.update(created, ["phone": .text("333")])
        let (nodeOne, nodeTwo) = (one.node, two.node)
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let first = try await client.push(
                "DLR-1", PushRequest(batch: Batch(dealer: nodeOne, schemaVersion: 3, firstSequence: 1, lastSequence: 2, rows: [created, editOne]), token: hq.tokens["DLR-1"]!))
            #expect(try receipt(first).conflicts == 0)
            let (_, cursor) = try await client.pull("DLR-1", token: hq.tokens["DLR-1"]!)
            // DLR-2 may write the row only once it holds it (docs/SECURITY.md): HQ shares it.
            #expect(try await hq.store.share(table: "customers", key: created.key, with: nodeTwo))
            let second = try await client.push(
                "DLR-2", PushRequest(batch: Batch(dealer: nodeTwo, schemaVersion: 3, firstSequence: 1, lastSequence: 1, rows: [editTwo]), token: hq.tokens["DLR-2"]!))
            #expect(try receipt(second).conflicts == 1)
            #expect(try await hq.store.count("conflicts") == 1)
            let (merged, _) = try await client.pull("DLR-1", token: hq.tokens["DLR-1"]!, after: cursor)
            #expect(merged.rows.first?.values(policy: .lastWriterWins)["phone"] == .text("333"))
            // DLR-2 holds the row too, but its own write won: the merged version still has
            // DLR-1's concurrent write, so it is sent to DLR-2 as well.
            let (toTwo, _) = try await client.pull("DLR-2", token: hq.tokens["DLR-2"]!)
            #expect(toTwo.rows.count == 1)
        }
    }

    @Test("status shows last batch, dead letters, backlog and clock skew; metrics and health answer")
    func status() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        var dealer = FakeDealer("DLR-1")
        let rows = [dealer.insert("customers", key: [.text("C-1")], [:]), dealer.insert("nope", key: [.text("X")], [:])]
        let node = dealer.node
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            var push = PushRequest(batch: Batch(dealer: node, schemaVersion: 3, firstSequence: 1, lastSequence: 2, rows: rows), token: hq.tokens["DLR-1"]!)
            let agentClock = Int64(Date().timeIntervalSince1970 * 1000) + 60_000
            push.headers[.dealersyncClock] = String(agentClock)
            #expect(try await client.push("DLR-1", push).status == .ok)
            #expect(try await client.hqWrite(#"{"table":"leads","key":["L-1"],"values":{"assigned_dealer":"DLR-1"}}"#, token: hq.tokens["hq-crm"]!).status == .ok)
            let wrong = try await client.push("DLR-1", PushRequest(batch: Batch(dealer: node, schemaVersion: 3, firstSequence: 1, lastSequence: 2, rows: []), token: hq.tokens["DLR-1"]!))
            #expect(wrong.status == .conflict)

            let response = try await client.execute(uri: "/v1/status", method: .get, headers: hq.bearer("crm"))
            #expect(response.status == .ok)
            let status = try JSONDecoder().decode(FleetStatus.self, from: Data(response.body.readableBytesView))
            let one = try #require(status.dealers.first { $0.id == "DLR-1" })
            #expect(one.lastBatch == "DLR-1:1-2")
            #expect(one.batches == 1)
            #expect(one.deadLetters == 1)
            #expect(one.backlog == 1, "the lead routed to DLR-1 is not pulled yet")
            #expect(one.errors == 1)
            let skew = try #require(one.clockSkewMillis)
            #expect(skew > 50_000 && skew < 70_000)
            #expect(status.dealers.map(\.id) == ["DLR-1", "DLR-2", "DLR-3"])

            let metrics = try await client.execute(uri: "/metrics", method: .get)
            let text = String(decoding: metrics.body.readableBytesView, as: UTF8.self)
            #expect(text.contains("dealersync_batches_total 1"))
            #expect(text.contains("dealersync_http_responses_total"))
            #expect(text.contains("dealersync_http_request_duration_seconds"))
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    @Test("HQConfig reads its keys, resolves paths, treats ~ as absent and names a missing key")
    func config() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hq-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try testSchemaYAML.write(to: directory.appendingPathComponent("schema.yaml"), atomically: true, encoding: .utf8)
        let reader = ConfigReader(providers: [
            InMemoryProvider(values: [
                "http.host": "0.0.0.0", "http.port": 9000, "store.path": "hq.sqlite", "schema_file": "schema.yaml",
                "limits.max_rows": 10, "limits.max_concurrent_ingests": 2,
            ])
        ])
        let config = try HQConfig(reader: reader, relativeTo: directory.path)
        #expect(config.host == "0.0.0.0" && config.port == 9000)
        #expect(config.storePath == directory.path + "/hq.sqlite")
        #expect(config.schema.table(named: "leads")?.routingColumn == "assigned_dealer")
        #expect(config.limits.maxRows == 10 && config.limits.maxConcurrentIngests == 2)
        #expect(config.limits.maxBodyBytes == HQLimits().maxBodyBytes)

        let missing = ConfigReader(providers: [InMemoryProvider(values: ["store.path": "~", "schema_file": "schema.yaml"])])
        #expect {
            try HQConfig(reader: missing, relativeTo: directory.path)
        } throws: { error in
            (error as? HQConfigError)?.message.contains("store.path") == true
        }
    }
}

extension FeedAndStatusTests {
    @Test("a dealer's backlog is the same counted over the feed since its pull or over the rows it holds (the way a dealer far behind is counted)")
    func backlogBothWays() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            var one = FakeDealer("DLR-1"), two = FakeDealer("DLR-2")
            var customers = (0..<30).map { one.insert("customers", key: [.text("C-\($0)")], ["notes": .text("n")]) }
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", customers, sequence: 1)
            _ = try await HostileDealerTests.push(client, hq, "DLR-2", (0..<10).map { two.insert("customers", key: [.text("D-\($0)")], [:]) }, sequence: 1)
            for index in 0..<12 {
                #expect(try await client.hqWrite(#"{"table":"leads","key":["L-\#(index)"],"values":{"assigned_dealer":"DLR-\#(index % 3 + 1)"}}"#, token: hq.tokens["hq-crm"]!).status == .ok)
                #expect(try await client.hqWrite(#"{"table":"prices","key":["P-\#(index)"],"values":{"price":\#(index)}}"#, token: hq.tokens["hq-crm"]!).status == .ok)
            }
            // DLR-2 pulls part of it, then DLR-1 edits rows DLR-2 does not hold and HQ shares one.
            _ = try await client.pull("DLR-2", token: hq.tokens["DLR-2"]!)
            customers = customers.prefix(5).map { one.update($0, ["notes": .text("m")]) }
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", customers, sequence: 2)
            #expect(try await client.execute(
                uri: "/v1/hq/shares", method: .post, headers: hq.bearer("hq-crm"),
                body: ByteBuffer(string: #"{"table": "customers", "key": ["C-1"], "dealer": "DLR-2"}"#)).status == .ok)
            let routing = RoutingSQL(schema: hq.config.schema)
            let counts = try await hq.store.pool.read { db -> [[Int]] in
                let latest = Int64(bitPattern: try SQLiteSyncStore.latestSequence(db))
                return try ["DLR-1", "DLR-2", "DLR-3"].map { dealer in
                    let pulled = try Int64.fetchOne(db, sql: "SELECT pulled_seq FROM principals WHERE id = ?", arguments: [dealer]) ?? 0
                    return try [true, false].map { walk in
                        try SQLiteSyncStore.backlog(db, dealer: dealer, pulled: pulled, latest: latest, routing: routing, walkFeed: walk)
                    }
                }
            }
            for (dealer, pair) in zip(["DLR-1", "DLR-2", "DLR-3"], counts) {
                #expect(pair[0] == pair[1], "\(dealer): over the feed \(pair[0]), over its holders \(pair[1])")
                #expect(pair[0] > 0, "\(dealer) has something to pull")
            }
        }
    }
}

extension FeedAndStatusTests {
    @Test("a pull's health report shows per dealer in /v1/status and /metrics; a hostile one is ignored; a dealer quiet past the threshold is flagged silent")
    func storeHealth() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let report = StoreHealthReport(agentVersion: "0.1.0", pendingChanges: 7, outboxRows: 2, heldRows: 3, freeDiskMB: 512, lastError: "hqBusy")
            let pulled = try await client.execute(
                uri: "/v1/dealers/DLR-1/changes?limit=10", method: .get,
                headers: [.authorization: "Bearer \(hq.tokens["DLR-1"]!)", HTTPField.Name(StoreHealthReport.headerName)!: report.headerValue])
            #expect(pulled.status == .ok)
            let hostile = try await client.execute(
                uri: "/v1/dealers/DLR-2/changes?limit=10", method: .get,
                headers: [.authorization: "Bearer \(hq.tokens["DLR-2"]!)", HTTPField.Name(StoreHealthReport.headerName)!: "v=0.1.0 pending=1 outbox=0 held=0 note=王小明"])
            #expect(hostile.status == .ok, "a bad report never stops the pull")
            // DLR-3 was last seen an hour ago.
            try await hq.store.recordPull(dealer: try NodeID("DLR-3"), cursor: 0, atMillis: Date.nowMillis - 3_600_000, clockSkewMillis: nil, capture: nil)

            let response = try await client.execute(uri: "/v1/status", method: .get, headers: hq.bearer("crm"))
            let status = try JSONDecoder().decode(FleetStatus.self, from: Data(response.body.readableBytesView))
            let byID = Dictionary(uniqueKeysWithValues: status.dealers.map { ($0.id, $0) })
            #expect(byID["DLR-1"]?.health == report && byID["DLR-1"]?.silent == false)
            #expect(byID["DLR-2"]?.health == nil)
            #expect(byID["DLR-3"]?.silent == true)
            let metrics = String(decoding: try await client.execute(uri: "/metrics", method: .get).body.readableBytesView, as: UTF8.self)
            #expect(metrics.contains(#"dealersync_store_held_rows{dealer="DLR-1"} 3"#), "\(metrics)")
            #expect(metrics.contains(#"dealersync_store_silent{dealer="DLR-3"} 1"#))
            #expect(!metrics.contains("王小明"))
        }
    }
}
