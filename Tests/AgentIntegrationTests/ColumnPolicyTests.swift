import Foundation
import GRDB
import HQServer
import Hummingbird
import HummingbirdTesting
import SyncAgent
import SyncCapture
import SyncCore
import SyncDemo
import SyncTestSupport
import Testing

/// `masked` and `hashed` columns (docs/PRIVACY.md): HQ and other stores hold only their
/// documented forms, the store keeps its values, identity still links by a hashed mobile,
/// agents without the policy or the key cannot put values into HQ, and a policy made
/// stricter later purges what HQ held.
@Suite("Masked and hashed columns", .serialized)
struct ColumnPolicyTests {
    static let key = try! ColumnHashKey(bytes: Array("fleet-key-for-tests-0123456789abcdef".utf8))

    /// The dealer schema, version 2, with customers' address and wechat masked, mobile hashed
    /// and occupation local (their quality rules, which HQ could not evaluate, removed).
    static let schema: SyncSchema = {
        var schema = try! SyncSchema(yaml: DealerSchema.syncSchemaYAML)
        schema.version = 2
        let index = schema.tables.firstIndex { $0.name == "customers" }!
        schema.tables[index].maskedColumns = ["address", "wechat"]
        schema.tables[index].hashedColumns = ["mobile"]
        schema.tables[index].localColumns = ["occupation"]
        schema.tables[index].quality.removeAll { ["mobile", "address"].contains($0.column) }
        schema.tables[index].columns?.removeAll { $0.name == "occupation" }
        return try! SyncSchema(yaml: schema.yaml())
    }()

    static let mobile = "13912345678"
    static let address = "上海市浦东新区世纪大道100号"

    /// Every byte of the files at `paths` and their WALs.
    static func bytes(_ paths: [String]) throws -> Data {
        var bytes = Data()
        for path in paths {
            for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
                bytes += try Data(contentsOf: URL(fileURLWithPath: file))
            }
        }
        return bytes
    }

    /// Which of the files at `paths` (or their WALs) hold `value`, and at which page: nil when none.
    static func found(_ value: String, in paths: [String]) throws -> String? {
        var places: [String] = []
        for path in paths {
            for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
                var start = bytes.startIndex
                while let range = bytes.range(of: Data(value.utf8), in: start..<bytes.endIndex) {
                    let page = (range.lowerBound - bytes.startIndex) / 4096 + 1
                    // Which table or index the page belongs to (free pages belong to none).
                    let owner = file == path
                        ? (try? DatabaseQueue(path: path).read { db in try String.fetchOne(db, sql: "SELECT name FROM dbstat WHERE pageno = ?", arguments: [page]) }) ?? nil
                        : nil
                    places.append("\(URL(fileURLWithPath: file).lastPathComponent) page \(page) (\(owner ?? "free"))")
                    start = range.upperBound
                }
            }
        }
        return places.isEmpty ? nil : places.joined(separator: ", ")
    }

    static func hqFiles(_ config: HQConfig) -> [String] { [config.storePath] + (config.tablesPath.map { [$0] } ?? []) }

    @Test("HQ and other stores hold only masked and hashed forms; the store keeps its values; identity links by the hashed mobile")
    func protectedForms() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A", "DLR-B"], tables: true, schema: Self.schema, hashKey: Self.key)
        let a = network.stores["DLR-A"]!, b = network.stores["DLR-B"]!
        let moved = try a.rows("SELECT id FROM customers WHERE rowid = 1")[0]["id"] as String
        try a.execute(
            "UPDATE customers SET name = '李四海', mobile = ?, address = ?, wechat = 'wx-secret-A', home_dealer = 'DLR-B', id_number = NULL, birth_date = NULL WHERE id = ?",
            [Self.mobile, Self.address, moved])
        // The same person at B, typed with spaces.
        let own = try b.rows("SELECT id FROM customers WHERE rowid = 1")[0]["id"] as String
        try b.execute("UPDATE customers SET name = '李四海', mobile = '139 1234 5678', id_number = NULL, birth_date = NULL WHERE id = ?", [own])

        let sent = SentBodies()
        let curl = try CurlTransport(settings: TransportSettings(connectTimeoutMillis: 2_000))
        let recording = MockTransport { request in
            sent.add(request)
            return try await curl.send(request)
        }
        let app = try await buildApplication(network.config)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            for _ in 0..<4 { for id in ["DLR-A", "DLR-B"] { _ = try await network.cycle(id, port: port, transport: recording).run() } }
            for id in ["DLR-A", "DLR-B"] {
                let digests = try await network.digests(id)
                #expect(digests.dealer == digests.hq, "\(id) converged on what it sends")
            }
        }
        let hashed = HashedForm.of(.text(Self.mobile), key: Self.key)
        let policy = Self.schema.table(named: "customers")!.policy
        let atHQ = try #require(try await network.store.rowVersion(table: "customers", key: RowKey([.text(moved)]), dealer: try NodeID("DLR-A"), schema: Self.schema))
            .values(policy: policy)
        #expect(atHQ["mobile"] == hashed)
        #expect(atHQ["address"] == MaskedForm.of(.text(Self.address)) && atHQ["address"] == .text("上海市********100号"))
        #expect(atHQ["wechat"] == .text("wx-****et-A"))
        #expect(atHQ["name"] == .text("李四海"), "a full column travels as it is")
        // B holds A's customer in the forms HQ has; A keeps its own values through HQ's echoes.
        let atB = try b.rows("SELECT mobile, address, wechat FROM customers WHERE id = ?", [moved])[0]
        #expect(SQLValue.text(atB["mobile"]) == hashed && atB["address"] == "上海市********100号" && atB["wechat"] == "wx-****et-A")
        let atA = try a.rows("SELECT mobile, address, wechat FROM customers WHERE id = ?", [moved])[0]
        #expect(atA["mobile"] == Self.mobile && atA["address"] == Self.address && atA["wechat"] == "wx-secret-A")
        // Not in any byte sent, nor in HQ's files.
        #expect(sent.pushes > 0)
        for value in [Self.mobile, "世纪大道", "wx-secret"] {
            #expect(!sent.contains(value), "sent: \(value)")
        }
        let hq = try Self.bytes(Self.hqFiles(network.config))
        for value in [Self.mobile, "世纪大道", "wx-secret"] {
            #expect(hq.range(of: Data(value.utf8)) == nil, "HQ's files hold \(value)")
        }
        // Identity links A's and B's records by the equal hashes (and the name).
        while try await network.store.linkIdentities(chunk: 500) > 0 {}
        let persons = try await DatabaseQueue(path: network.config.tablesPath!).read { db in
            try [moved, own].map { id in
                try String.fetchOne(db, sql: "SELECT person_id FROM _dealersync_identity_records WHERE key_json = ?", arguments: ["[{\"type\":\"text\",\"value\":\"\(id)\"}]"])
            }
        }
        #expect(persons[0] != nil && persons[0] == persons[1], "one person across stores: \(persons)")
    }

    @Test("an agent without the policy sends values: HQ masks them and drops the unhashed; HQ writes follow the policy; no key, no install")
    func withoutPolicyOrKey() async throws {
        var network = try await SyncNetwork(dealers: [], tables: true, schema: Self.schema)
        // A store set up by hand (or a hostile one) with HQ's version number and none of its policies.
        var withoutPolicy = try SyncSchema(yaml: DealerSchema.syncSchemaYAML)
        withoutPolicy.version = Self.schema.version
        let old = try TestDMS(schemaSQL: DealerSchema.dmsSQL, label: "policy-old")
        try await old.dms.write { db in
            var generator = DealershipGenerator(seed: 5, dealer: "DLR-OLD")
            _ = try DealershipPopulator.populate(db, generator: &generator, customers: 5)
            try db.execute(sql: "UPDATE customers SET mobile = ?, address = ?, occupation = 'occupation-secret' WHERE rowid = 1", arguments: [Self.mobile, Self.address])
        }
        // A store with the schema but not the key refuses to start capturing.
        do {
            _ = try old.open(node: "DLR-OLD").install(schema: Self.schema)
            Issue.record("installed without the hash key")
        } catch let error as CaptureError {
            #expect(error.code == .hashKeyMissing && error.hint.contains("hash_key_file"))
        }
        let database = try old.open(node: "DLR-OLD")
        _ = try database.install(schema: withoutPolicy)
        let token = Tokens.generate()
        try await network.store.addPrincipal(NewPrincipal(id: "DLR-OLD", name: nil, kind: .dealer, tokenSHA256: Tokens.sha256(of: token), createdAtMillis: 1))
        network.tokens["DLR-OLD"] = token
        network.stores["DLR-OLD"] = old
        network.databases["DLR-OLD"] = database
        let customer = try old.rows("SELECT id FROM customers WHERE rowid = 1")[0]["id"] as String
        let joined = network
        let app = try await buildApplication(network.config)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            for _ in 0..<2 { _ = try await joined.cycle("DLR-OLD", port: port).run() }
            func write(_ body: String) async throws -> HTTPResponse.Status {
                try await client.execute(
                    uri: "/v1/hq/changes", method: .post,
                    headers: [.authorization: "Bearer \(joined.tokens["crm"]!)", .contentType: "application/json"], body: ByteBuffer(string: body)
                ) { $0.status }
            }
            #expect(try await write(#"{"table":"customers","key":["C-HQ"],"values":{"mobile":"13900000000"}}"#) == .badRequest)
            #expect(try await write(#"{"table":"customers","key":["C-HQ"],"values":{"occupation":"x"}}"#) == .badRequest)
            let hash = HashedForm.of(.text("13900000000"), key: Self.key)
            guard case .text(let hashText) = hash else { return }
            #expect(try await write(#"{"table":"customers","key":["C-HQ"],"values":{"mobile":"\#(hashText)","address":"广州市天河区体育西路1号"}}"#) == .ok)
        }
        let policy = Self.schema.table(named: "customers")!.policy
        let pushed = try #require(try await network.store.rowVersion(table: "customers", key: RowKey([.text(customer)]), dealer: try NodeID("DLR-OLD"), schema: Self.schema))
        #expect(pushed.columns["mobile"] == nil, "an unhashed value is dropped: HQ cannot hash it")
        #expect(pushed.columns["occupation"] == nil)
        #expect(pushed.values(policy: policy)["address"] == MaskedForm.of(.text(Self.address)))
        let written = try #require(try await network.store.rowVersion(table: "customers", key: RowKey([.text("C-HQ")]), dealer: try NodeID("DLR-OLD"), schema: Self.schema))
        #expect(written.values(policy: policy)["address"] == .text("广州市*****西路1号"))
        #expect(written.values(policy: policy)["mobile"] == HashedForm.of(.text("13900000000"), key: Self.key))
        let hq = try Self.bytes(Self.hqFiles(network.config))
        for value in [Self.mobile, "世纪大道", "occupation-secret", "天河区体育"] {
            #expect(hq.range(of: Data(value.utf8)) == nil, "HQ's files hold \(value)")
        }
    }

    @Test("a policy made stricter later: HQ purges what it held at its next start, also from its SQL tables and identity records")
    func stricterLater() async throws {
        var network = try await SyncNetwork(dealers: ["DLR-A"], tables: true)
        let a = network.stores["DLR-A"]!
        try a.execute("UPDATE customers SET mobile = ?, address = ?, wechat = 'wx-secret-A' WHERE rowid <= 3", [Self.mobile, Self.address])
        let first = network
        try await first.withSettledHQ { port in
            try a.execute("UPDATE customers SET remarks = 'edited' WHERE rowid = 1")
            _ = try await first.settle(port: port)
        }
        while try await network.store.linkIdentities(chunk: 500) > 0 {}
        let before = try Self.bytes(Self.hqFiles(network.config))
        #expect(before.range(of: Data(Self.mobile.utf8)) != nil, "HQ held the values before the policy")
        // HQ restarts with version 2's policies; the store still runs version 1.
        network.config.schema = Self.schema
        let restartedNetwork = network
        let app = try await buildApplication(network.config)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try a.execute("UPDATE customers SET address = ? WHERE rowid = 2", [Self.address + "B座"])
            _ = try await restartedNetwork.settle(port: port)
        }
        let restarted = try SQLiteSyncStore(path: network.config.storePath, tables: (network.config.tablesPath!, Self.schema))
        while try await restarted.linkIdentities(chunk: 500) > 0 {}
        for value in [Self.mobile, "世纪大道", "wx-secret"] {
            let place = try Self.found(value, in: Self.hqFiles(network.config))
            #expect(place == nil, "HQ's files still hold \(value): \(place ?? "")")
        }
        #expect(try await restarted.applyColumnPolicies(Self.schema) == nil, "a second start purges nothing again")
        #expect(try await restarted.count("rows") > 20, "the rows stay")
    }
}

/// Every request body an agent sent (pushes decompressed), to search for bytes.
final class SentBodies: @unchecked Sendable {
    private let lock = NSLock()
    private var bodies: [Data] = []
    private(set) var pushes = 0

    func add(_ request: SyncAgent.HTTPRequest) {
        var body = request.body
        if request.headers.contains(where: { $0.0 == "Content-Encoding" && $0.1 == "gzip" }) {
            body = (try? Gzip.decompress(body, maxOutputBytes: 256 << 20)) ?? body
        }
        let headers = request.headers.map { "\($0.0): \($0.1)" }.joined(separator: "\n")
        lock.withLock {
            if request.url.hasSuffix("/batches") { pushes += 1 }
            bodies.append(Data(body) + Data((request.url + "\n" + headers).utf8))
        }
    }

    func contains(_ text: String) -> Bool {
        lock.withLock { bodies.contains { $0.range(of: Data(text.utf8)) != nil } }
    }
}
