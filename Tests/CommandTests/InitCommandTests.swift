import Foundation
import Testing
import SyncTestSupport

/// Runs the built `dealersync` binary as a user would, checking output and exit codes.
@Suite("dealersync command line")
struct InitCommandTests {
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
        let binary = try #require(ProcessRunner.dealersyncBinary, "build first: swift build")
        return try await ProcessRunner.run(binary, arguments, environment: environment)
    }

    @Test("--help lists every command, each with a line that says what it is for")
    func help() async throws {
        let help = try await Self.run(["--help"])
        #expect(help.status == 0)
        for command in ["init", "status", "agent", "conflicts", "resync", "hq", "demo"] {
            #expect(help.stdout.contains("  \(command) "), "\(command) is not listed")
        }
    }

    @Test("init sets up a store, is safe to re-run, explains bad input, and --remove undoes it")
    func initRoundTrip() async throws {
        let directory = TemporaryDirectory("init-cli")
        let dms = directory.file("dms.sqlite")
        let sqlite = try await ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/sqlite3"),
            [dms, "CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT); INSERT INTO customers VALUES ('c1', '张三'); CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT);"])
        #expect(sqlite.status == 0)
        let schema = directory.file("schema.yaml")
        try "version: 1\ntables:\n  - name: customers\n    direction: both\n  - name: audit\n    direction: both\n".write(toFile: schema, atomically: true, encoding: .utf8)
        let config = directory.file("agent.yaml")
        try "node_id: DLR-9\ndatabase: \(dms)\nschema_file: \(schema)\n".write(toFile: config, atomically: true, encoding: .utf8)

        let refused = try await Self.run(["init", "--config", config])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("Error: table 'audit'") && refused.stderr.contains("Try: set direction: up"))

        try "version: 1\ntables:\n  - name: customers\n    direction: both\n  - name: audit\n    direction: up\n".write(toFile: schema, atomically: true, encoding: .utf8)
        let first = try await Self.run(["init", "--config", config])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("Initialised node DLR-9") && first.stdout.contains("1 existing rows"))
        let second = try await Self.run(["init", "--config", config])
        #expect(second.status == 0 && second.stdout.contains("Checked node DLR-9") && second.stdout.contains(" 0 existing rows"))

        let env = try await Self.run(["init", "--config", config, "--check"], environment: ["DEALERSYNC_NODE_ID": "DLR-10"])
        #expect(env.status == 0, "environment overrides the file; --check changes nothing")

        let missing = try await Self.run(["init", "--config", directory.file("nope.yaml")])
        #expect(missing.status != 0 && missing.stderr.contains("does not exist") && missing.stderr.contains("Try:"))

        let healthy = try await Self.run(["status", "--config", config])
        #expect(healthy.status == 0 && healthy.stdout.contains("health           healthy"), "\(healthy.stdout)")
        let json = try await Self.run(["status", "--config", config, "--json"])
        #expect(json.status == 0 && json.stdout.contains("\"pendingChanges\" : 1"))

        let removed = try await Self.run(["init", "--config", config, "--remove"])
        #expect(removed.status == 0 && removed.stdout.contains("as it was before init"))
        let broken = try await Self.run(["status", "--config", config])
        #expect(broken.status == 2 && broken.stdout.contains("not set up"))
    }

    @Test("the demo runs HQ and three stores, ends converged with exit status 0, and leaves stores that status, conflicts and digest read")
    func demo() async throws {
        let directory = TemporaryDirectory("demo-cli")
        let result = try await Self.run(["demo", "--customers", "12", "--directory", directory.path])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("Converged: every store matches HQ."))
        #expect(result.stdout.contains("arrived there, not at DLR-SH01"))
        #expect(result.stdout.contains("last-writer-wins") && result.stdout.contains("HQ kept its value and told the store (status: 1 row"), "\(result.stdout)")
        #expect(!result.stdout.contains("13911112222") && !result.stdout.contains("13933334444"), "mobiles are masked")

        let config = directory.file("DLR-BJ02.yaml")
        let status = try await Self.run(["status", "--config", config])
        #expect(status.status == 0 && status.stdout.contains("health           healthy"), "\(status.stdout)\(status.stderr)")
        #expect(status.stdout.contains("1 with columns HQ kept") && status.stdout.contains("customer_class"), "\(status.stdout)")
        let conflicts = try await Self.run(["conflicts", "list", "--config", config])
        #expect(conflicts.status == 0 && conflicts.stdout.contains("customers.mobile") && conflicts.stdout.contains("last-writer-wins"), "\(conflicts.stdout)")
        let id = try #require(conflicts.stdout.split(separator: "\n").dropFirst().first?.split(separator: " ").first.map(String.init))
        let shown = try await Self.run(["conflicts", "show", id, "--config", config])
        #expect(shown.status == 0 && shown.stdout.contains("kept") && shown.stdout.contains("lost 1"), "\(shown.stdout)")
        let schema = directory.file("schema.yaml")
        let store = try await Self.run(["digest", "--database", directory.file("DLR-BJ02.sqlite"), "--schema", schema, "--json"])
        let hq = try await Self.run(["digest", "--hq-store", directory.file("hq.sqlite"), "--schema", schema, "--dealer", "DLR-BJ02", "--json"])
        let digest = { (text: String) in text.split(separator: "\"").drop { $0 != "digest" }.dropFirst(2).first.map(String.init) }
        #expect(store.status == 0 && hq.status == 0 && digest(store.stdout) != nil && digest(store.stdout) == digest(hq.stdout), "\(store.stdout)\(hq.stdout)")
    }
}
