import Foundation
import HQServer
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncDemo
import SyncTestSupport
import Testing

/// `dealersync digest` run as an operator would, against the files of a converged network.
@Suite("dealersync digest")
struct DigestCommandTests {
    static let binary = ProcessRunner.dealersyncBinary

    func digest(_ arguments: [String]) async throws -> ProcessResult {
        try await ProcessRunner.run(try #require(Self.binary, "build first: swift build"), ["digest"] + arguments)
    }

    func decoded(_ result: ProcessResult) throws -> (digest: String, rows: Int) {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        return (try #require(object["digest"] as? String), try #require(object["rows"] as? Int))
    }

    @Test("with hashed columns, the store's digest needs the fleet's key and then equals HQ's", .enabled(if: binary != nil))
    func hashedColumns() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A"], schema: ColumnPolicyTests.schema, hashKey: ColumnPolicyTests.key)
        let schemaFile = network.directory.file("schema.yaml")
        try ColumnPolicyTests.schema.yaml().write(toFile: schemaFile, atomically: true, encoding: .utf8)
        let keyFile = network.directory.file("hash-key")
        try "fleet-key-for-tests-0123456789abcdef".write(toFile: keyFile, atomically: true, encoding: .utf8)
        chmod(keyFile, 0o600)
        try await network.withSettledHQ { _ in }
        let dms = network.stores["DLR-A"]!
        let withoutKey = try await digest(["--database", dms.path, "--schema", schemaFile])
        #expect(withoutKey.status != 0 && withoutKey.stderr.contains("--hash-key-file"), "\(withoutKey.stderr)")
        let store = try decoded(try await digest(["--database", dms.path, "--schema", schemaFile, "--hash-key-file", keyFile, "--json"]))
        let hq = try decoded(try await digest(["--hq-store", network.config.storePath, "--schema", schemaFile, "--dealer", "DLR-A", "--json"]))
        #expect(store.digest == hq.digest && store.rows == hq.rows && store.rows > 0)
    }

    @Test("store and HQ digests of the same rows are equal when converged, differ after an unsynced edit", .enabled(if: binary != nil))
    func storeEqualsHQ() async throws {
        let network = try await SyncNetwork(dealers: ["DLR-A", "DLR-B"])
        let schemaFile = network.directory.file("schema.yaml")
        try DealerSchema.syncSchemaYAML.write(toFile: schemaFile, atomically: true, encoding: .utf8)
        let app = try await buildApplication(network.config)
        try await app.test(.live) { client in
            _ = try await network.settle(port: try #require(client.port))
        }
        var total = 0
        for dealer in ["DLR-A", "DLR-B"] {
            let dms = network.stores[dealer]!
            let store = try decoded(try await digest(["--database", dms.path, "--schema", schemaFile, "--json"]))
            let hq = try decoded(try await digest(["--hq-store", network.config.storePath, "--schema", schemaFile, "--dealer", dealer, "--json"]))
            #expect(store.digest == hq.digest, "\(dealer): store and HQ differ")
            let dmsRows = try ["customers", "vehicles", "leads", "service_orders", "service_lines"].reduce(0) {
                $0 + (try dms.count("SELECT count(*) FROM \($1)"))
            }
            #expect(store.rows == dmsRows, "every DMS row is covered")
            #expect(hq.rows == store.rows)
            let own = try await digest(["--database", dms.path, "--schema", schemaFile, "--dealer", dealer])
            #expect(own.status == 0 && own.stdout.contains("digest: \(store.digest)") && own.stdout.contains("rows:   \(store.rows)"))
            print("digest \(dealer): \(store.rows) rows, store = HQ \(store.digest.prefix(16))")
            total += store.rows
        }
        let all = try decoded(try await digest(["--hq-store", network.config.storePath, "--schema", schemaFile, "--json"]))
        #expect(all.rows == total, "HQ holds exactly the rows of both stores (no row routed twice here)")

        // An edit not yet synced: the store's digest moves, HQ's does not.
        let dms = network.stores["DLR-A"]!
        let before = try decoded(try await digest(["--database", dms.path, "--schema", schemaFile, "--json"]))
        try dms.execute("UPDATE vehicles SET color = 'changed' WHERE rowid = (SELECT min(rowid) FROM vehicles)")
        let after = try decoded(try await digest(["--database", dms.path, "--schema", schemaFile, "--json"]))
        let hq = try decoded(try await digest(["--hq-store", network.config.storePath, "--schema", schemaFile, "--dealer", "DLR-A", "--json"]))
        #expect(after.digest != before.digest && hq.digest == before.digest && after.rows == before.rows)
    }

    @Test("errors name the file and what to try", .enabled(if: binary != nil))
    func errors() async throws {
        let directory = TemporaryDirectory("digest-cli")
        let schemaFile = directory.file("schema.yaml")
        try DealerSchema.syncSchemaYAML.write(toFile: schemaFile, atomically: true, encoding: .utf8)
        let missing = directory.file("nope.sqlite")
        let cases: [([String], String)] = [
            ([], "Try: pass --database"),
            (["--database", missing, "--schema", schemaFile], "\(missing) does not exist"),
            (["--database", schemaFile, "--hq-store", schemaFile], "both --database and --hq-store"),
            (["--hq-store", schemaFile], "no sync schema given"),
        ]
        for (arguments, expected) in cases {
            let result = try await digest(arguments)
            #expect(result.status != 0)
            #expect(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("Try: "))
        }
        let dms = try TestDMS(schemaSQL: DealerSchema.dmsSQL, label: "digest-uninit")
        let uninitialised = try await digest(["--database", dms.path, "--schema", schemaFile])
        #expect(uninitialised.status != 0 && uninitialised.stderr.contains("not set up in \(dms.path)"))
        let help = try await digest(["--help"])
        #expect(help.stdout.contains("--hq-store") && help.stdout.contains("Examples:"))
    }
}
