import Foundation
import GRDB
import HQServer
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncDemo
import SyncTestSupport
import Testing

/// `dealersync quality` at a store and `dealersync hq quality` at HQ, run as an operator
/// would (docs/QUALITY.md): the store lists its own records to fix, a fixed record drops off
/// at the next sync, and no value is printed.
@Suite("dealersync quality")
struct QualityCommandTests {
    static let binary = ProcessRunner.dealersyncBinary

    @Test("a store lists its records to fix and a corrected one drops off after the next sync; HQ shows each dealer's score", .enabled(if: binary != nil))
    func storeAndHQ() async throws {
        let binary = try #require(Self.binary)
        let network = try await SyncNetwork(dealers: ["DLR-A", "DLR-B"], tables: true)
        let schemaFile = network.directory.file("schema.yaml")
        try DealerSchema.syncSchemaYAML.write(toFile: schemaFile, atomically: true, encoding: .utf8)
        let hqConfig = network.directory.file("hq.yaml")
        try "store:\n  path: \(network.config.storePath)\nschema_file: \(schemaFile)\n".write(toFile: hqConfig, atomically: true, encoding: .utf8)
        let dms = network.stores["DLR-A"]!
        let first = try await dms.dms.read { db in try String.fetchOne(db, sql: "SELECT id FROM customers ORDER BY id LIMIT 1") }
        let victim = try #require(first)
        try dms.execute("UPDATE customers SET mobile = '1999999' WHERE id = ?", [victim])
        let app = try await buildApplication(network.config)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            _ = try await network.settle(port: port)
            let config = try network.agentConfig("DLR-A", hqURL: "http://127.0.0.1:\(port)")
            let listed = try await ProcessRunner.run(binary, ["quality", "--config", config])
            #expect(listed.status == 0, "\(listed.stderr)")
            #expect(listed.stdout.contains("[\(victim)] mobile: mobile is not a mainland mobile number"), "\(listed.stdout)")
            #expect(!listed.stdout.contains("1999999"), "values are never printed")
            #expect(listed.stdout.contains("Data quality score"))

            try dms.execute("UPDATE customers SET mobile = '13957290318' WHERE id = ?", [victim])
            _ = try await network.settle(port: port)
            let after = try await ProcessRunner.run(binary, ["quality", "--config", config])
            #expect(!after.stdout.contains("[\(victim)] mobile"), "the corrected record dropped off: \(after.stdout)")

            let fleet = try await ProcessRunner.run(binary, ["hq", "quality", "--config", hqConfig])
            #expect(fleet.status == 0 && fleet.stdout.contains("Fleet score") && fleet.stdout.contains("DLR-A") && fleet.stdout.contains("DLR-B"), "\(fleet.stdout)\(fleet.stderr)")
            let bad = try await ProcessRunner.run(binary, ["quality", "--config", try network.agentConfig("DLR-B", hqURL: "http://127.0.0.1:1")])
            #expect(bad.status != 0 && bad.stderr.contains("cannot reach HQ") && bad.stderr.contains("Try:"), "\(bad.stderr)")
        }
    }
}
