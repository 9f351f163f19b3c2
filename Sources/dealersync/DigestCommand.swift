import ArgumentParser
import Foundation
import HQServer
import SyncCapture
import SyncCore

/// `dealersync digest`: a canonical digest of synced data, to compare a store with HQ (or
/// two HQ stores) without copying files around. Equal digests mean equal data.
struct DigestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "Print a canonical digest of the synced rows of a DMS database or an HQ store.",
        discussion: """
            The digest is a SHA-256 over every live synced row (table, key, shown values),
            computed the same way at a store and at HQ: when a store has converged with HQ,
            `digest --database` at the store equals `digest --hq-store --dealer <its id>`
            at HQ. Deleted rows are not counted. Works with the agent and HQ running or not
            (it only reads).

            Examples:
              At a store:  dealersync digest --database /var/lib/dms/dms.sqlite --schema /etc/dealersync/schema.yaml
              At HQ:       dealersync digest --hq-store /var/lib/dealersync/hq.sqlite --schema /etc/dealersync/schema.yaml --dealer DLR-0421
              Whole HQ:    dealersync digest --hq-store /var/lib/dealersync/hq.sqlite --schema /etc/dealersync/schema.yaml --json
            """)

    @Option(name: .long, help: ArgumentHelp("A store's DMS SQLite file (set up with `dealersync init`).", valueName: "path"))
    var database: String?

    @Option(name: .customLong("hq-store"), help: ArgumentHelp("The HQ store SQLite file (store.path in hq.yaml).", valueName: "path"))
    var hqStore: String?

    @Option(name: .long, help: ArgumentHelp("The sync schema YAML (schema_file in agent.yaml or hq.yaml): it says which column owner wins a conflict, which tables are up, down or broadcast.", valueName: "file"))
    var schema: String?

    @Option(name: .long, help: ArgumentHelp("Only the rows this dealer holds (at HQ: what its store holds when converged; at a store: must be the store's own id).", valueName: "id"))
    var dealer: String?

    @Option(name: .customLong("hash-key-file"), help: ArgumentHelp("At a store whose schema hashes columns: the fleet's key (hash_key_file in agent.yaml), so the digest covers them as HQ holds them.", valueName: "file"))
    var hashKeyFile: String?

    @Flag(help: "Print JSON: {\"digest\", \"rows\", \"source\", \"dealer\"}.")
    var json = false

    func run() async throws {
        try await reportingErrors {
            let (source, schema) = try checkedInputs()
            let dealerID = try dealer.map { id in
                do { return try NodeID(id) } catch {
                    throw CommandError("--dealer \(id) is not a valid node id", hint: "pass the id `dealersync hq add-dealer` issued, e.g. DLR-0421")
                }
            }
            let digest: SyncedDataDigest
            switch source {
            case .database(let path):
                digest = try dealerDigest(path: path, dealer: dealerID, schema: schema)
            case .hqStore(let path):
                let store = try SQLiteSyncStore(path: path)
                digest = SyncedDataDigest(try await store.syncedVersions(dealer: dealerID, schema: schema), schema: schema)
            }
            if json {
                let output = Output(digest: digest.sha256, rows: digest.rows, source: source.path, dealer: dealer)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(output), as: UTF8.self))
            } else {
                print("digest: \(digest.sha256)")
                print("rows:   \(digest.rows)")
            }
        }
    }

    struct Output: Codable {
        var digest: String
        var rows: Int
        var source: String
        var dealer: String?
    }

    enum Source {
        case database(String)
        case hqStore(String)
        var path: String {
            switch self {
            case .database(let path), .hqStore(let path): path
            }
        }
    }

    private func checkedInputs() throws -> (Source, SyncSchema) {
        let source: Source
        switch (database, hqStore) {
        case (let path?, nil): source = .database(path)
        case (nil, let path?): source = .hqStore(path)
        case (nil, nil):
            throw CommandError("nothing to digest", hint: "pass --database DMS.sqlite (at a store) or --hq-store hq.sqlite (at HQ)")
        case (_?, _?):
            throw CommandError("both --database and --hq-store given", hint: "digest one at a time and compare the two outputs")
        }
        guard FileManager.default.fileExists(atPath: source.path) else {
            throw CommandError("\(source.path) does not exist", hint: "check the path; at a store it is `database` in agent.yaml, at HQ `store.path` in hq.yaml")
        }
        guard let schemaPath = schema else {
            throw CommandError("no sync schema given", hint: "pass --schema with the sync schema YAML (schema_file in agent.yaml or hq.yaml)")
        }
        guard let text = try? String(contentsOfFile: schemaPath, encoding: .utf8) else {
            throw CommandError("sync schema file \(schemaPath) cannot be read", hint: "check the path and its permissions")
        }
        return (source, try SyncSchema(yaml: text, source: schemaPath))
    }

    private func dealerDigest(path: String, dealer: NodeID?, schema: SyncSchema) throws -> SyncedDataDigest {
        // Any node id opens the file; the installed one is checked below.
        let opened = try DealerDatabase(settings: CaptureSettings(databasePath: path, node: dealer?.rawValue ?? "digest"))
        guard let node = try opened.installedNode() else {
            throw CommandError("dealersync is not set up in \(path)", hint: "run `dealersync init --config agent.yaml` there first, or check that this is the DMS file")
        }
        if let dealer, dealer.rawValue != node {
            throw CommandError(
                "\(path) belongs to node \(node), not \(dealer)",
                hint: "drop --dealer (a store holds only its own rows), or digest \(dealer)'s rows at HQ with --hq-store")
        }
        let key = try hashKeyFile.map { try AgentConfig.hashKey(file: $0) }
        if key == nil, let table = ColumnProtection(schema: schema, key: nil).tablesMissingKey.first {
            throw CommandError(
                "the sync schema hashes columns of '\(table)'; without the key the digest cannot match HQ's",
                hint: "pass --hash-key-file with the file hash_key_file names in agent.yaml")
        }
        let database = try DealerDatabase(settings: CaptureSettings(databasePath: path, node: node, hashKey: key))
        return SyncedDataDigest(try database.allVersions(asSent: true).map { ($0, nil) }, schema: schema)
    }
}
