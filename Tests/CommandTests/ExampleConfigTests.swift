import Foundation
import Testing
import SyncTestSupport

/// The commented example configs in deploy/ are what operators copy: they must load with
/// the keys the code reads, not drift from them.
@Suite("deploy/ example configs")
struct ExampleConfigTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("deploy")

    @Test("agent.example.yaml and schema.example.yaml set up a store of the generated DMS schema")
    func agentExample() async throws {
        let directory = TemporaryDirectory("example-agent")
        let dms = directory.file("dms.sqlite")
        let created = try await ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/sqlite3"), [dms, DealerSchema.dmsSQL])
        #expect(created.status == 0, "\(created.stderr)")
        let environment = [
            "DEALERSYNC_DATABASE": dms,
            "DEALERSYNC_SCHEMA_FILE": Self.deploy.appendingPathComponent("schema.example.yaml").path,
        ]
        let config = Self.deploy.appendingPathComponent("agent.example.yaml").path
        let check = try await InitCommandTests.run(["init", "--config", config, "--check"], environment: environment)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let initialised = try await InitCommandTests.run(["init", "--config", config], environment: environment)
        #expect(initialised.status == 0 && initialised.stdout.contains("Initialised node DLR-0421"), "\(initialised.stdout)\(initialised.stderr)")
        // The hq section is read too: without a token the agent says where one goes.
        let once = try await InitCommandTests.run(["agent", "once", "--config", config], environment: environment)
        #expect(once.status != 0 && once.stderr.contains("no HQ token") && once.stderr.contains("hq.token_file"), "\(once.stderr)")
    }

    @Test("hq.example.yaml loads with its keys")
    func hqExample() async throws {
        let directory = TemporaryDirectory("example-hq")
        let store = directory.file("hq.sqlite")
        let environment = ["DEALERSYNC_SCHEMA_FILE": Self.deploy.appendingPathComponent("schema.example.yaml").path]
        let config = Self.deploy.appendingPathComponent("hq.example.yaml").path
        let added = try await InitCommandTests.run(["hq", "add-dealer", "DLR-0421", "--config", config, "--store", store], environment: environment)
        #expect(added.status == 0, "\(added.stderr)")
        let status = try await InitCommandTests.run(["hq", "status", "--config", config, "--store", store, "--json"], environment: environment)
        #expect(status.status == 0 && status.stdout.contains("DLR-0421"), "\(status.stdout)\(status.stderr)")
    }
}
