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

/// Three stores and HQ edit the same customers at random, syncing at random moments, over
/// many seeds: every database ends identical, so every conflict was decided the same way
/// everywhere (in-process HQ, agents' cycles over loopback HTTP through libcurl).
@Suite("Reliability: concurrent edits")
struct ConcurrentEditsTests {
    static let schemaYAML = """
        version: 1
        tables:
          - name: customers
            direction: both
            broadcast: true
            owners:
              customer_class: hq
              sales_notes: origin
        """
    static let dmsSQL = "CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT, mobile TEXT, customer_class TEXT, sales_notes TEXT, remarks TEXT)"
    static let columns = ["name", "mobile", "customer_class", "sales_notes", "remarks"]
    static let dealers = ["DLR-A", "DLR-B", "DLR-C"]

    @Test("three stores and HQ, random concurrent edits on the same customers, many seeds: identical everywhere")
    func concurrentEdits() async throws {
        let seeds = ChaosScale.count(10)
        let first = ChaosScale.seed()
        let started = Date()
        var edits = 0, conflicts = 0, rows = 0
        for offset in 0..<UInt64(seeds) {
            let figures = try await run(seed: first &+ offset)
            edits += figures.edits
            conflicts += figures.conflicts
            rows += figures.rows
        }
        print("concurrent-edits: \(seeds) seeds from \(first), \(edits) edits, \(conflicts) conflicts logged at HQ, \(rows) final rows, all identical, \(elapsed(since: started))")
    }

    func run(seed: UInt64) async throws -> (edits: Int, conflicts: Int, rows: Int) {
        let directory = TemporaryDirectory("edits")
        let schema = try SyncSchema(yaml: Self.schemaYAML)
        // A long idle timeout: the test client does not reconnect (see SyncNetwork).
        let config = HQConfig(port: 0, storePath: directory.file("hq.sqlite"), schema: schema, limits: HQLimits(idleTimeoutSeconds: 600))
        let store = try SQLiteSyncStore(path: config.storePath)
        var tokens: [String: String] = [:]
        for id in Self.dealers + ["crm"] {
            let token = Tokens.generate()
            try await store.addPrincipal(NewPrincipal(
                id: id, name: nil, kind: id == "crm" ? .writer : .dealer, tokenSHA256: Tokens.sha256(of: token), createdAtMillis: 1))
            tokens[id] = token
        }
        var writers: [String: DatabaseQueue] = [:]
        var databases: [String: DealerDatabase] = [:]
        for id in Self.dealers {
            let path = directory.file("\(id).sqlite")
            let writer = try DatabaseQueue(path: path)
            try await writer.write { db in try db.execute(sql: Self.dmsSQL) }
            let database = try DealerDatabase(settings: CaptureSettings(databasePath: path, node: id))
            _ = try database.install(schema: schema)
            writers[id] = writer
            databases[id] = database
        }
        let tokensByID = tokens, writersByID = writers, databasesByID = databases
        let state = EditState(seed: seed)
        try await writersByID["DLR-A"]!.write { db in
            for id in (0..<6).map({ "C\($0)" }) {
                try db.execute(sql: "INSERT INTO customers (id, name, remarks) VALUES (?, ?, 'start')", arguments: [id, "Customer \(id)"])
            }
        }
        var logger = Logger(label: "test.edits")
        logger.logLevel = .critical
        let quiet = logger
        @Sendable func cycle(_ id: String, _ port: Int) async throws -> CycleReport {
            let settings = AgentSettings(hqURL: "http://127.0.0.1:\(port)", token: tokensByID[id]!, pullPageRows: 7)
            return try await SyncCycle(
                database: databasesByID[id]!, transport: try CurlTransport(settings: TransportSettings(connectTimeoutMillis: 2_000)),
                settings: settings, logger: quiet
            ).run()
        }
        @Sendable func settle(_ port: Int) async throws {
            for _ in 0..<10 {
                var moved = 0
                for id in Self.dealers {
                    let report = try await cycle(id, port)
                    moved += report.pushedRows + report.appliedRows
                }
                if moved == 0 { return }
            }
        }
        let app = try await buildApplication(config)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await settle(port)
            for _ in 0..<8 {
                for _ in 0..<(state.next(12) + 3) {
                    let customer = state.customers[state.next(state.customers.count)]
                    let roll = state.next(20)
                    if roll == 0 {
                        // HQ sets the HQ-owned class.
                        let response = try await client.execute(
                            uri: "/v1/hq/changes", method: .post,
                            headers: [.authorization: "Bearer \(tokensByID["crm"]!)", .contentType: "application/json"],
                            body: ByteBuffer(string: #"{"table":"customers","key":["\#(customer)"],"values":{"customer_class":"HQ-\#(state.next(4))"}}"#))
                        #expect(response.status == .ok)
                    } else {
                        let dealer = Self.dealers[state.next(3)]
                        let sql: String
                        let arguments: StatementArguments
                        switch roll {
                        case 1:
                            (sql, arguments) = ("DELETE FROM customers WHERE id = ?", [customer])
                        case 2:
                            let id = "N\(state.next(1000))"
                            (sql, arguments) = ("INSERT OR REPLACE INTO customers (id, name) VALUES (?, ?)", [id, "New \(id)"])
                            if !state.customers.contains(id) { state.customers.append(id) }
                        default:
                            let column = Self.columns[state.next(Self.columns.count)]
                            (sql, arguments) = ("UPDATE customers SET \(column) = ? WHERE id = ?", ["\(dealer) \(state.next(100))", customer])
                        }
                        try await writersByID[dealer]!.write { db in try db.execute(sql: sql, arguments: arguments) }
                    }
                    state.edits += 1
                }
                // Some stores sync now, the others later: their edits stay concurrent.
                for id in Self.dealers where state.next(2) == 0 { _ = try await cycle(id, port) }
            }
            try await settle(port)
        }
        let edits = state.edits
        // Every store holds the same rows with the same values; HQ agrees with each.
        let tables = try Self.dealers.map { id in
            try writersByID[id]!.read { db in try Row.fetchAll(db, sql: "SELECT * FROM customers ORDER BY id").map(\.description) }
        }
        #expect(tables[0] == tables[1] && tables[1] == tables[2], "seed \(seed): stores differ")
        let hq = SyncedDataDigest(try await store.syncedVersions(dealer: nil, schema: schema), schema: schema)
        for id in Self.dealers {
            let local = SyncedDataDigest(try databasesByID[id]!.allVersions().map { ($0, nil) }, schema: schema)
            #expect(local == hq, "seed \(seed): \(id) differs from HQ")
        }
        return (edits, try await store.count("conflicts"), tables[0].count)
    }
}

/// The random choices of one seed, shared with the HQ test client's closure.
final class EditState: @unchecked Sendable {
    var random: SplitMix
    var customers = (0..<6).map { "C\($0)" }
    var edits = 0
    init(seed: UInt64) { random = SplitMix(seed: seed) }
    func next(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }
}
