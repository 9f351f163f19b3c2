import Foundation
import GRDB
import HQServer
import Hummingbird
import HummingbirdTesting
import Logging
import SyncAgent
import SyncCapture
import SyncCore
import SyncTestSupport
import Testing

/// Erasure on a data subject's request (docs/PRIVACY.md): the row and every copy of its values
/// leave HQ and every store that held it, each store confirms, and a store that was offline
/// with the row cannot bring it back.
@Suite("Erasure", .serialized)
struct ErasureTests {
    /// What identifies the erased customer; none of it may stay in any file.
    static let markers = ["赵六删除", "13700007777", "ERASE-ADDRESS-MARKER", "remark-A-secret", "remark-B-secret", "remark-C-offline"]

    static func files(_ network: SyncNetwork) -> [String] {
        ColumnPolicyTests.hqFiles(network.config) + network.stores.values.map(\.path)
    }

    @Test("erased at HQ and at the three stores that held it, with conflicts, dead letters and an offline edit; no file keeps a value")
    func everywhere() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A", "DLR-B", "DLR-C"], tables: true)
        let a = network.stores["DLR-A"]!, b = network.stores["DLR-B"]!, c = network.stores["DLR-C"]!
        let erased = try a.rows("SELECT id FROM customers WHERE rowid = 1")[0]["id"] as String
        let kept = try a.rows("SELECT id FROM customers WHERE rowid = 2")[0]["id"] as String
        try a.execute(
            "UPDATE customers SET name = '赵六删除', mobile = '13700007777', address = 'ERASE-ADDRESS-MARKER', home_dealer = 'DLR-B' WHERE id = ?",
            [erased])
        // Every line HQ and the agents log, at every level.
        let lines = LogLines()
        let logger = Logger(label: "erasure") { _ in RecordingLogHandler(lines: lines) }
        let app = try await buildApplication(network.config, logger: logger)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            func cycle(_ ids: [String], rounds: Int = 1) async throws {
                for _ in 0..<rounds { for id in ids { _ = try await network.cycle(id, port: port, logger: logger).run() } }
            }
            try await cycle(["DLR-A", "DLR-B"], rounds: 2)
            _ = try await network.store.share(table: "customers", key: RowKey([.text(erased)]), with: try NodeID("DLR-C"))
            try await cycle(["DLR-C"])
            #expect(try c.count("SELECT count(*) FROM customers WHERE name = '赵六删除'") == 1, "C holds the row")
            // Copies beyond the row: a conflict (both values, at HQ and the stores) and a dead letter.
            try a.execute("UPDATE customers SET remarks = 'remark-A-secret' WHERE id = ?", [erased])
            try b.execute("UPDATE customers SET remarks = 'remark-B-secret' WHERE id = ?", [erased])
            try await cycle(["DLR-A", "DLR-B"], rounds: 2)
            try a.execute("UPDATE customers SET home_dealer = x'00' WHERE id = ?", [erased])
            try await cycle(["DLR-A"])
            try a.execute("UPDATE customers SET home_dealer = 'DLR-B' WHERE id = ?", [erased])
            try await cycle(["DLR-A", "DLR-B"], rounds: 2)
            #expect(try await network.store.deadLetterReasons().count == 1)
            while try await network.store.linkIdentities(chunk: 500) > 0 {}
            let before = try ColumnPolicyTests.bytes(Self.files(network))
            #expect(before.range(of: Data("remark-A-secret".utf8)) != nil && before.range(of: Data("赵六删除".utf8)) != nil)
            // C goes offline and edits the row there.
            try c.execute("UPDATE customers SET remarks = 'remark-C-offline' WHERE id = ?", [erased])

            func erase(_ body: String, token: String) async throws -> (HTTPResponse.Status, ErasureStatus?) {
                try await client.execute(
                    uri: "/v1/hq/erasures", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                    body: ByteBuffer(string: body)
                ) { ($0.status, try? JSONDecoder().decode(ErasureStatus.self, from: Data($0.body.readableBytesView))) }
            }
            let body = #"{"table":"customers","key":["\#(erased)"],"reason":"ticket 4711"}"#
            // Hostile and wrong requests change nothing.
            #expect(try await erase(body, token: network.tokens["DLR-A"]!).0 == .forbidden, "a dealer token")
            #expect(try await erase(body, token: "not-a-token").0 == .unauthorized)
            #expect(try await erase(#"{"table":"customers","key":["no-such-row"]}"#, token: network.tokens["crm"]!).0 == .notFound)
            #expect(try await erase(#"{"table":"nope","key":["x"]}"#, token: network.tokens["crm"]!).0 == .badRequest)
            #expect(try await erase(#"{"table":"customers","key":["x"],"reason":"a\u001b[2J"}"#, token: network.tokens["crm"]!).0 == .badRequest)
            #expect(try await erase("not json", token: network.tokens["crm"]!).0 == .badRequest)

            let (status, created) = try await erase(body, token: network.tokens["crm"]!)
            #expect(status == .ok)
            #expect(created?.created == true && created?.requestedBy == "crm" && created?.reason == "ticket 4711")
            #expect(created?.holders.map(\.dealer) == ["DLR-A", "DLR-B", "DLR-C"])
            let again = try await erase(body, token: network.tokens["crm"]!)
            #expect(again.0 == .ok && again.1?.created == false && again.1?.id == created?.id, "erasing twice answers the first erasure")

            try await cycle(["DLR-A", "DLR-B"], rounds: 2)
            let waiting = try await network.store.erasures(id: nil, limit: 10)
            #expect(waiting.first?.pending == ["DLR-C"], "A and B confirmed by pulling past the tombstone")
            #expect(try a.count("SELECT count(*) FROM customers WHERE id = '\(erased)'") == 0)
            #expect(try b.count("SELECT count(*) FROM customers WHERE id = '\(erased)'") == 0)
            // C comes back: its edit is refused, not merged, and its copy goes.
            try await cycle(["DLR-C"], rounds: 2)
            try await cycle(["DLR-A", "DLR-B", "DLR-C"], rounds: 2)
            #expect(try c.count("SELECT count(*) FROM customers WHERE id = '\(erased)'") == 0, "the offline store's copy is deleted")
            let confirmed = try await network.store.erasures(id: nil, limit: 10)
            #expect(confirmed.count == 1 && confirmed.first?.pending == [], "every holder confirmed: \(confirmed)")
        }
        let policy = network.schema.table(named: "customers")!.policy
        let tombstone = try #require(try await network.store.rowVersion(table: "customers", key: RowKey([.text(erased)]), dealer: try NodeID("DLR-A"), schema: network.schema))
        #expect(!tombstone.isAlive(policy: policy) && tombstone.columns.isEmpty, "HQ keeps a tombstone without values")
        #expect(try await network.store.deadLetterReasons().isEmpty, "the dead letter went")
        #expect(try a.count("SELECT count(*) FROM customers WHERE id = '\(kept)'") == 1, "other rows stay")
        while try await network.store.linkIdentities(chunk: 500) > 0 {}
        for id in ["DLR-A", "DLR-B", "DLR-C"] {
            #expect(try network.stores[id]!.count("SELECT count(*) FROM _dealersync_conflicts WHERE row_key = x'\(RowKey([.text(erased)]).bytes.map { String(format: "%02x", $0) }.joined())'") == 0)
        }
        #expect(try await network.store.erasures(id: nil, limit: 1).first?.done == false, "not done before HQ rewrote its files")
        #expect(try await network.store.scrubErasures(nowMillis: 5) == 1)
        #expect(try await network.store.erasures(id: nil, limit: 1).first?.done == true)
        #expect(try await network.store.scrubErasures(nowMillis: 6) == 0, "nothing to rewrite again")
        #expect(lines.all.contains { $0.contains("erased") }, "the agents logged the erasure")
        for marker in Self.markers {
            #expect(!lines.all.contains { $0.contains(marker) }, "a log line holds \(marker)")
        }
        for marker in Self.markers {
            let place = try ColumnPolicyTests.found(marker, in: Self.files(network))
            #expect(place == nil, "a file still holds \(marker): \(place ?? "")")
        }
    }

    @Test("a key created anew after an erasure: merged from the store that applied it; another store's row under that key stays there, refused at HQ like any foreign key, and kept nowhere")
    func createdAnew() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A", "DLR-B"])
        let a = network.stores["DLR-A"]!, b = network.stores["DLR-B"]!
        let ids = try a.rows("SELECT id FROM customers ORDER BY rowid LIMIT 2").map { $0["id"] as String }
        let spec = network.schema.table(named: "customers")!
        try await network.withSettledHQ { port in
            for id in ids {
                _ = try await network.store.erase(ErasureRequest(spec: spec, key: RowKey([.text(id)]), requestedBy: "test", reason: nil, atMillis: 1))
            }
            _ = try await network.settle(port: port)
            #expect(try a.count("SELECT count(*) FROM customers WHERE id IN ('\(ids[0])', '\(ids[1])')") == 0)
            // A creates the first key again; B, which never held either, creates the second.
            try a.execute("INSERT INTO customers (id, name, home_dealer) VALUES (?, 'created-anew-A', 'DLR-A')", [ids[0]])
            try b.execute("INSERT INTO customers (id, name, home_dealer) VALUES (?, 'created-anew-B', 'DLR-B')", [ids[1]])
            _ = try await network.settle(port: port)
        }
        let policy = spec.policy
        let anew = try await network.store.rowVersion(table: "customers", key: RowKey([.text(ids[0])]), dealer: try NodeID("DLR-A"), schema: network.schema)
        #expect(anew?.isAlive(policy: policy) == true && anew?.values(policy: policy)["name"] == .text("created-anew-A"))
        #expect(try a.count("SELECT count(*) FROM customers WHERE name = 'created-anew-A'") == 1)
        // B's row under A's erased key: HQ keeps its tombstone, B keeps its row, no copy is kept.
        let foreign = try await network.store.rowVersion(table: "customers", key: RowKey([.text(ids[1])]), dealer: try NodeID("DLR-B"), schema: network.schema)
        #expect(foreign?.isAlive(policy: policy) == false)
        #expect(try b.count("SELECT count(*) FROM customers WHERE name = 'created-anew-B'") == 1, "the store's own row is not deleted")
        #expect(try await network.store.deadLetterReasons().isEmpty, "no dead letter keeps a row of an erased key")
    }

    @Test("hq erase and hq erasures from the command line, on a store hq serve could be running on")
    func command() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"], tables: true)
        try await network.withSettledHQ { _ in }
        let erased = try network.stores["DLR-A"]!.rows("SELECT id FROM customers WHERE rowid = 1")[0]["id"] as String
        let schemaFile = network.directory.file("schema.yaml")
        try network.schema.yaml().write(toFile: schemaFile, atomically: true, encoding: .utf8)
        let config = network.directory.file("hq.yaml")
        try """
            store:
              path: \(network.config.storePath)
              tables_path: \(network.config.tablesPath!)
            schema_file: \(schemaFile)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let binary = try #require(ProcessRunner.dealersyncBinary, "build first: swift build")
        let erase = try await ProcessRunner.run(binary, ["hq", "erase", "customers", "[\"\(erased)\"]", "--reason", "ticket 1", "--config", config])
        #expect(erase.status == 0, "\(erase.stderr)")
        #expect(erase.stdout.contains("Erased the row of customers") && erase.stdout.contains("DLR-A"), "\(erase.stdout)")
        let list = try await ProcessRunner.run(binary, ["hq", "erasures", "--pending", "--config", config])
        #expect(list.stdout.contains("pending") && list.stdout.contains("waiting for DLR-A"), "\(list.stdout)")
        let wrong = try await ProcessRunner.run(binary, ["hq", "erase", "customers", "C-1", "--config", config])
        #expect(wrong.status != 0 && wrong.stderr.contains("JSON array"), "\(wrong.stderr)")
        let tables = try DatabaseQueue(path: network.config.tablesPath!)
        #expect(try await tables.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customers WHERE id = ?", arguments: [erased]) } == 0,
                "the SQL table lost the row in the same transaction")
    }
}
