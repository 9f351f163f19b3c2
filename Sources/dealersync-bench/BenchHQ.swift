import Foundation
import HQServer
import Hummingbird
import Logging
import ServiceLifecycle
import SyncAgent
import SyncCapture
import SyncCore
import SyncTestSupport

/// The real HQ application on a loopback port inside the bench process, with an SQLite
/// store in a temporary directory and a token per dealer — wired as `dealersync demo` and
/// the agent integration tests wire it. Agents reach it over HTTP through libcurl.
final class BenchHQ: @unchecked Sendable {
    let directory = TemporaryDirectory("bench-hq")
    let schema: SyncSchema
    let store: SQLiteSyncStore
    let baseURL: String
    private(set) var tokens: [String: String] = [:]
    private let group: ServiceGroup
    private let server: Task<Void, Error>

    static var quiet: Logger {
        var logger = Logger(label: "dealersync.bench")
        // BENCH_TRACE=1 shows the agents' and HQ's state changes while measuring.
        logger.logLevel = ProcessInfo.processInfo.environment["BENCH_TRACE"] == nil ? .critical : .info
        return logger
    }

    /// `tables`: HQ keeps its SQL tables too (docs/HQ-TABLES.md); `quality`: with the dealer
    /// schema's data-quality rules (docs/QUALITY.md), evaluated with the tables.
    init(dealers: [String], limits: HQLimits = HQLimits(), tables: Bool = false, quality: Bool = true) async throws {
        var schema = try SyncSchema(yaml: DealerSchema.syncSchemaYAML)
        if !quality { for index in schema.tables.indices { schema.tables[index].quality = [] } }
        self.schema = schema
        let storePath = directory.file("hq.sqlite")
        let tablesPath = tables ? directory.file("hq.tables.sqlite") : nil
        store = try SQLiteSyncStore(path: storePath, tables: tablesPath.map { ($0, schema) })
        for id in dealers {
            tokens[id] = try await Self.addDealer(id, to: store)
        }
        let port = try LoopbackPort.free()
        baseURL = "http://127.0.0.1:\(port)"
        let app = buildApplication(
            HQConfig(host: "127.0.0.1", port: port, storePath: storePath, tablesPath: tablesPath, schema: schema, limits: limits), store: store,
            logger: Self.quiet)
        let group = ServiceGroup(services: [app], logger: Self.quiet)
        self.group = group
        server = Task { try await group.run() }
        try await Self.waitUntilUp(baseURL)
    }

    /// A dealer added while HQ runs (a new store joining the fleet).
    func join(_ id: String) async throws {
        tokens[id] = try await Self.addDealer(id, to: store)
    }

    /// Adds a dealer principal and returns its token (HQ keeps only the hash).
    static func addDealer(_ id: String, to store: SQLiteSyncStore) async throws -> String {
        let token = Tokens.generate()
        try await store.addPrincipal(NewPrincipal(id: id, name: nil, kind: .dealer, tokenSHA256: Tokens.sha256(of: token), createdAtMillis: 1))
        return token
    }

    static func waitUntilUp(_ baseURL: String) async throws {
        let transport = try CurlTransport(settings: TransportSettings(connectTimeoutMillis: 1_000))
        for _ in 0..<200 {
            if let response = try? await transport.send(SyncAgent.HTTPRequest(method: "GET", url: baseURL + "/healthz")), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("HQ did not start on \(baseURL)")
    }

    /// A sync cycle for `database` against this HQ, over its own libcurl connection.
    func cycle(_ database: DealerDatabase, pullPageRows: Int = 1_000, maxExchangesPerCycle: Int = 50) throws -> (SyncCycle, AgentSettings) {
        let settings = AgentSettings(
            hqURL: baseURL, token: tokens[database.node.rawValue]!, pullPageRows: pullPageRows, maxExchangesPerCycle: maxExchangesPerCycle)
        let cycle = SyncCycle(
            database: database, transport: try CurlTransport(settings: TransportSettings(connectTimeoutMillis: 2_000)),
            settings: settings, logger: Self.quiet)
        return (cycle, settings)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await server.value
    }
}

/// A bench step that could not be measured.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
