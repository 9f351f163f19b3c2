import Foundation
import HQServer
import Hummingbird
import HummingbirdTesting
import Logging
import SyncAgent
import SyncCapture
import SyncCore
import SyncDemo
import SyncTestSupport
import Testing

/// An HQ store and dealer DMS databases in one temporary directory, wired with real
/// tokens. Agents talk to HQ over loopback HTTP through libcurl.
struct SyncNetwork {
    let directory = TemporaryDirectory("agent-it")
    let schema: SyncSchema
    var config: HQConfig
    let store: SQLiteSyncStore
    var tokens: [String: String] = [:]
    var stores: [String: TestDMS] = [:]
    var databases: [String: DealerDatabase] = [:]

    /// `tables`: HQ keeps its SQL tables in `hq.tables.sqlite` (docs/HQ-TABLES.md).
    /// `hashKey`: the fleet's key for `hashed` columns, given to every store.
    init(
        dealers: [String], tables: Bool = false, schema: SyncSchema = try! SyncSchema(yaml: DealerSchema.syncSchemaYAML),
        hashKey: ColumnHashKey? = nil
    ) async throws {
        self.schema = schema
        // HummingbirdTesting's live client does not reconnect: a connection the idle timeout
        // closed while the agents settled (slow on a busy machine) failed the next request.
        config = HQConfig(
            port: 0, storePath: directory.file("hq.sqlite"), tablesPath: tables ? directory.file("hq.tables.sqlite") : nil, schema: schema,
            limits: HQLimits(idleTimeoutSeconds: 600))
        let schema = schema
        store = try SQLiteSyncStore(path: config.storePath, tables: config.tablesPath.map { ($0, schema) })
        for id in dealers + ["crm"] {
            let token = Tokens.generate()
            try await store.addPrincipal(NewPrincipal(
                id: id, name: nil, kind: id == "crm" ? .writer : .dealer, tokenSHA256: Tokens.sha256(of: token), createdAtMillis: 1))
            tokens[id] = token
        }
        for (index, id) in dealers.enumerated() {
            let dms = try TestDMS(schemaSQL: DealerSchema.dmsSQL, label: "it-\(id)")
            try await dms.dms.write { db in
                var generator = DealershipGenerator(seed: UInt64(100 + index), dealer: id)
                _ = try DealershipPopulator.populate(db, generator: &generator, customers: 20)
            }
            let database = try dms.open(node: id, hashKey: hashKey)
            _ = try database.install(schema: schema)
            stores[id] = dms
            databases[id] = database
        }
    }

    /// `logger`: where the agent logs (default: warnings and errors to stderr).
    func cycle(_ dealer: String, port: Int?, transport: (any DeltaTransport)? = nil, pullPageRows: Int = 50, logger: Logger? = nil) throws -> SyncCycle {
        var logger = logger ?? Logger(label: "test.agent.\(dealer)")
        if logger.label.hasPrefix("test.agent") { logger.logLevel = .warning }
        let settings = AgentSettings(hqURL: "http://127.0.0.1:\(port ?? 9)", token: tokens[dealer]!, pullPageRows: pullPageRows)
        return SyncCycle(
            database: databases[dealer]!,
            transport: try transport ?? CurlTransport(settings: TransportSettings(connectTimeoutMillis: 2_000)),
            settings: settings, logger: logger)
    }

    /// Runs every agent's cycle, round after round, until a round moves nothing.
    func settle(port: Int, rounds: Int = 8) async throws -> Int {
        for round in 1...rounds {
            var moved = 0
            for dealer in databases.keys.sorted() {
                let report = try await cycle(dealer, port: port).run()
                moved += report.pushedRows + report.appliedRows
            }
            if moved == 0 { return round }
        }
        return rounds
    }

    /// Writes a config for `dealersync agent run` of `dealer` (token in a file, as under
    /// systemd) with extra YAML lines appended; returns its path.
    func agentConfig(_ dealer: String, hqURL: String, extra: String = "") throws -> String {
        let tokenFile = directory.file("\(dealer)-hq-token")
        try tokens[dealer]!.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        chmod(tokenFile, 0o600)
        let config = directory.file("\(dealer)-agent.yaml")
        try """
            node_id: \(dealer)
            database: \(stores[dealer]!.path)
            hq:
              url: \(hqURL)
              token_file: \(tokenFile)
              connect_timeout_millis: 3000
              # The network tests' namespaces use private addresses over plain HTTP.
              allow_insecure_http: true

            """.appending(extra).write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    /// The store's digest next to HQ's digest of the same rows (equal when converged).
    func digests(_ dealer: String) async throws -> (dealer: String, hq: String) {
        let pair = try await ConvergenceDigest.compare(databases[dealer]!, with: store, schema: schema)
        return (pair.store, pair.hq)
    }

    /// Runs `body` with HQ serving this network's store on a loopback port (the port is
    /// passed), after every agent has synced until nothing moves.
    func withSettledHQ(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let app = try await buildApplication(config)
        try await app.test(.live) { client in
            let port = try #require(client.port, "the live test server has no port")
            _ = try await settle(port: port)
            try await body(port)
        }
    }
}
