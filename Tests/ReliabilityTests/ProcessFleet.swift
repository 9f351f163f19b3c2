import Foundation
import GRDB
import HQServer
import SyncCapture
import SyncCore
import SyncDemo
import SyncTestSupport

/// HQ and dealer agents as real `dealersync` processes on loopback, each with its own files
/// in one temporary directory, so a test can kill -9 any of them and start it again.
/// The test reads the same files in-process (digests, counts) as an operator would.
final class ProcessFleet: @unchecked Sendable {
    let directory = TemporaryDirectory("chaos")
    let binary: URL
    let schema = try! SyncSchema(yaml: DealerSchema.syncSchemaYAML)
    let schemaFile: String
    let hqStorePath: String
    let hqConfigPath: String
    let port: Int
    let hq: ChildProcess
    var dealers: [String: Dealer] = [:]

    final class Dealer: @unchecked Sendable {
        let id: String
        /// The DMS file (kept alive by `dms` when the fleet made it in a temporary directory).
        let dmsPath: String
        let dms: TestDMS?
        let writer: DMSWriter
        let configPath: String
        let agent: ChildProcess
        init(id: String, dmsPath: String, dms: TestDMS?, writer: DMSWriter, configPath: String, agent: ChildProcess) {
            self.id = id
            self.dmsPath = dmsPath
            self.dms = dms
            self.writer = writer
            self.configPath = configPath
            self.agent = agent
        }

        func database() throws -> DealerDatabase {
            try DealerDatabase(settings: CaptureSettings(databasePath: dmsPath, node: id))
        }
    }

    /// `agentWrapper` runs a dealer's processes through another program (e.g. `faketime -f
    /// +1d` for a store whose clock is off); `hqStorePath` lets a test put HQ's store on a
    /// small tmpfs.
    init(
        dealers ids: [String], seed: UInt64, hqStorePath: String? = nil, dmsPaths: [String: String] = [:], agentWrapper: [String: [String]] = [:],
        hqEnvironment: [String: String] = [:], agentEnvironment: [String: [String: String]] = [:],
        batchRows: Int = 20, pollMillis: Int = 300
    ) async throws {
        binary = try ProcessRunner.dealersyncBinary.orThrow("build first: swift build --build-tests")
        schemaFile = directory.file("schema.yaml")
        try DealerSchema.syncSchemaYAML.write(toFile: schemaFile, atomically: true, encoding: .utf8)
        self.hqStorePath = hqStorePath ?? directory.file("hq.sqlite")
        hqConfigPath = directory.file("hq.yaml")
        port = try LoopbackPort.free()
        try """
            http:
              host: 127.0.0.1
              port: \(port)
            store:
              path: \(self.hqStorePath)
            schema_file: \(schemaFile)
            """.write(toFile: hqConfigPath, atomically: true, encoding: .utf8)
        hq = ChildProcess(
            executable: binary, arguments: ["hq", "serve", "--config", hqConfigPath], environment: hqEnvironment, logPath: directory.file("hq.log"))
        for (index, id) in ids.enumerated() {
            let added = try await ProcessRunner.run(binary, ["hq", "add-dealer", id, "--store", self.hqStorePath])
            guard added.status == 0, let token = added.stdout.split(separator: "\n").first(where: { $0.hasPrefix("token: ") })?.dropFirst(7) else {
                throw FleetError("hq add-dealer \(id) failed: \(added.stderr)")
            }
            let tokenFile = directory.file("\(id).token")
            try String(token).write(toFile: tokenFile, atomically: true, encoding: .utf8)
            chmod(tokenFile, 0o600)
            var dms: TestDMS?
            let dmsPath: String
            if let path = dmsPaths[id] {
                try await DatabaseQueue(path: path).write { db in try db.execute(sql: DealerSchema.dmsSQL) }
                dmsPath = path
            } else {
                dms = try TestDMS(schemaSQL: DealerSchema.dmsSQL, label: "chaos-\(id)")
                dmsPath = dms!.path
            }
            let configPath = directory.file("\(id).yaml")
            try """
                node_id: \(id)
                database: \(dmsPath)
                schema_file: \(schemaFile)
                capture:
                  batch_rows: \(batchRows)
                hq:
                  url: http://127.0.0.1:\(port)
                  token_file: \(tokenFile)
                  connect_timeout_millis: 2000
                sync:
                  poll_interval_millis: \(pollMillis)
                  pull_page_rows: \(batchRows)
                """.write(toFile: configPath, atomically: true, encoding: .utf8)
            let (executable, prefix) = Self.wrapped(binary, agentWrapper[id])
            let initialised = try await ProcessRunner.run(executable, prefix + ["init", "--config", configPath])
            guard initialised.status == 0 else { throw FleetError("init \(id) failed: \(initialised.stderr)") }
            let agent = ChildProcess(
                executable: executable, arguments: prefix + ["agent", "run", "--config", configPath], environment: agentEnvironment[id] ?? [:],
                logPath: directory.file("\(id).log"))
            dealers[id] = Dealer(
                id: id, dmsPath: dmsPath, dms: dms, writer: try DMSWriter(path: dmsPath, dealer: id, seed: seed &+ UInt64(index)), configPath: configPath, agent: agent)
        }
    }

    /// The program and leading arguments that run `binary` through `wrapper`.
    static func wrapped(_ binary: URL, _ wrapper: [String]?) -> (URL, [String]) {
        guard let wrapper, let first = wrapper.first else { return (binary, []) }
        return (URL(fileURLWithPath: first), Array(wrapper.dropFirst()) + [binary.path])
    }

    var ids: [String] { dealers.keys.sorted() }

    func startHQ() async throws {
        try hq.start()
        guard try await waitUntil(seconds: 60, every: 50, { portAcceptsConnections(self.port) || !self.hq.isRunning }), hq.isRunning else {
            throw FleetError("HQ did not start listening on port \(port):\n\(hq.log().suffix(2000))")
        }
    }

    func startAgents() throws { for id in ids { try dealers[id]!.agent.start() } }

    func stopAll() {
        for id in ids { dealers[id]!.agent.stop() }
        hq.stop()
    }

    /// The store's digest and HQ's digest of the rows that dealer holds.
    func digests(_ id: String) async throws -> (store: SyncedDataDigest, hq: SyncedDataDigest) {
        let store = SyncedDataDigest(try dealers[id]!.database().allVersions().map { ($0, nil) }, schema: schema)
        let hqStore = try SQLiteSyncStore(path: hqStorePath)
        let hq = SyncedDataDigest(try await hqStore.syncedVersions(dealer: try NodeID(id), schema: schema), schema: schema)
        return (store, hq)
    }

    /// Every store equals HQ's copy of its rows, nothing waits in any outbox or capture
    /// log, and every row a writer committed is at its store.
    func converged() async throws -> Bool {
        for id in ids {
            let status = try dealers[id]!.database().status()
            guard status.pendingChanges == 0, status.outboxBatches == 0 else { return false }
            let pair = try await digests(id)
            guard pair.store == pair.hq else { return false }
        }
        return true
    }

    /// Rows HQ routed to `dealer` that it has not pulled yet.
    func backlog(_ dealer: String) async throws -> Int {
        let status = try await SQLiteSyncStore(path: hqStorePath).status(schema: schema)
        return status.first { $0.id == dealer }?.backlog ?? 0
    }

    /// HQ's store read directly (a second reader next to the HQ process; WAL allows it).
    func hqRead<T>(_ body: (Database) throws -> T) throws -> T {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: hqStorePath, configuration: configuration).read(body)
    }

    /// Batches of `dealer` whose capture-sequence ranges overlap: each would be a change
    /// applied twice under two batch ids.
    func overlappingBatches(_ dealer: String) throws -> Int {
        try hqRead { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT count(*) FROM batches a JOIN batches b ON a.dealer = b.dealer AND a.rowid < b.rowid
                      AND a.first_seq <= b.last_seq AND b.first_seq <= a.last_seq WHERE a.dealer = ?
                    """, arguments: [dealer]) ?? 0
        }
    }

    func hqCount(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws -> Int {
        try hqRead { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0 }
    }

    /// Live rows of `table` at HQ (tombstones are not rows).
    func hqLiveRows(_ table: String) async throws -> Int {
        let store = try SQLiteSyncStore(path: hqStorePath)
        let all = try await store.syncedVersions(dealer: nil, schema: schema).filter { $0.version.table == table }
        return SyncedDataDigest(all, schema: schema).rows
    }

    /// The exactly-once checks after convergence: each store holds what its writer and
    /// the others' writers routed to it committed; HQ holds each committed row once.
    func exactlyOnceProblems() async throws -> [String] {
        var problems: [String] = []
        var customersCreated = 0
        for id in ids {
            let writer = dealers[id]!.writer
            customersCreated += writer.customersInserted
            let routedHere = ids.filter { $0 != id }.reduce(0) { $0 + dealers[$1]!.writer.customersFor[id, default: 0] }
            let expectedCustomers = writer.customersInserted + routedHere
            let customers = try writer.count("customers")
            if customers != expectedCustomers { problems.append("\(id): \(customers) customers in the DMS, committed \(expectedCustomers)") }
            let lines = try writer.count("service_lines")
            if lines != writer.linesLive { problems.append("\(id): \(lines) service lines in the DMS, committed \(writer.linesLive)") }
            let pair = try await digests(id)
            if pair.store != pair.hq { problems.append("\(id): store digest \(pair.store.sha256.prefix(12)) ≠ HQ \(pair.hq.sha256.prefix(12))") }
            if pair.store.rows != customers + lines + writer.otherRows {
                problems.append("\(id): digest covers \(pair.store.rows) rows, the DMS holds \(customers + lines + writer.otherRows)")
            }
            let overlaps = try overlappingBatches(id)
            if overlaps > 0 { problems.append("\(id): \(overlaps) overlapping batch ranges at HQ") }
        }
        let hqCustomers = try await hqLiveRows("customers")
        if hqCustomers != customersCreated { problems.append("HQ holds \(hqCustomers) customers, stores committed \(customersCreated)") }
        let deadLetters = try hqCount("SELECT count(*) FROM dead_letters")
        if deadLetters > 0 { problems.append("HQ has \(deadLetters) dead letters") }
        let integrity = try hqRead { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        if integrity != "ok" { problems.append("HQ store integrity_check: \(integrity ?? "nil")") }
        return problems
    }
}

struct FleetError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Optional {
    func orThrow(_ message: String) throws -> Wrapped {
        guard let self else { throw FleetError(message) }
        return self
    }
}
