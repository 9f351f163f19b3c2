import Foundation
import Testing
import SyncTestSupport

/// `dealersync conflicts …` and `dealersync resync` as an operator types them.
@Suite("dealersync conflicts and resync")
struct RepairCommandTests {
    /// A store with dealersync installed and one customer, and its agent config.
    static func store() async throws -> (TemporaryDirectory, config: String, dms: String) {
        let directory = TemporaryDirectory("repair-cli")
        let dms = directory.file("dms.sqlite")
        let sqlite = try await ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/sqlite3"), [dms, "CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT); INSERT INTO customers VALUES ('c1', '张三');"])
        #expect(sqlite.status == 0)
        let schema = directory.file("schema.yaml")
        try "version: 1\ntables:\n  - name: customers\n    direction: both\n".write(toFile: schema, atomically: true, encoding: .utf8)
        let config = directory.file("agent.yaml")
        try "node_id: DLR-7\ndatabase: \(dms)\nschema_file: \(schema)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let initialised = try await InitCommandTests.run(["init", "--config", config])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        return (directory, config, dms)
    }

    @Test("conflicts: an empty log says so; a wrong number or a missing choice explains what to do")
    func conflictsCommand() async throws {
        let (directory, config, _) = try await Self.store()
        _ = directory
        let list = try await InitCommandTests.run(["conflicts", "list", "--config", config])
        #expect(list.status == 0 && list.stdout.contains("No conflicts await review"), "\(list.stdout)\(list.stderr)")
        let json = try await InitCommandTests.run(["conflicts", "list", "--config", config, "--json", "--all"])
        #expect(json.status == 0 && json.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]")
        let missing = try await InitCommandTests.run(["conflicts", "show", "42", "--config", config])
        #expect(missing.status == 1 && missing.stderr.contains("no conflict #42") && missing.stderr.contains("Try: `dealersync conflicts list`"))
        let undecided = try await InitCommandTests.run(["conflicts", "resolve", "42", "--config", config])
        #expect(undecided.status != 0 && undecided.stderr.contains("--keep, or --use-losing"))
        let both = try await InitCommandTests.run(["conflicts", "resolve", "42", "--keep", "--use-losing", "--config", config])
        #expect(both.status != 0)
    }

    @Test("pause-capture lets a DROP COLUMN through and says what comes next; status is broken until the agent repairs")
    func pauseCapture() async throws {
        let (directory, config, dms) = try await Self.store()
        _ = directory
        let refused = try await ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/sqlite3"), [dms, "ALTER TABLE customers DROP COLUMN name;"])
        #expect(refused.status != 0 && refused.stderr.contains("_dealersync_"), "\(refused.stderr)")
        let paused = try await InitCommandTests.run(["pause-capture", "--config", config])
        #expect(paused.status == 0 && paused.stdout.contains("Capture paused on 1 tables (customers)") && paused.stdout.contains("start the agent"), "\(paused.stdout)\(paused.stderr)")
        let dropped = try await ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/sqlite3"), [dms, "ALTER TABLE customers DROP COLUMN name;"])
        #expect(dropped.status == 0, "\(dropped.stderr)")
        let status = try await InitCommandTests.run(["status", "--config", config])
        #expect(status.status == 2 && status.stdout.contains("capture of 'customers' is off"), "\(status.stdout)\(status.stderr)")
    }

    @Test("resync queues a row written while capture was off, and a second run queues nothing")
    func resyncCommand() async throws {
        let (directory, config, dms) = try await Self.store()
        _ = directory
        // A DMS upgrade that drops every trigger, writes a row, and is then set up again.
        let triggers = try await ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/sqlite3"), [dms, "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE '_dealersync_%'"])
        let drops = triggers.stdout.split(separator: "\n").map { "DROP TRIGGER \"\($0)\";" }.joined()
        #expect(!drops.isEmpty)
        let upgrade = try await ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/sqlite3"), [dms, drops + "INSERT INTO customers VALUES ('c2', '李四');"])
        #expect(upgrade.status == 0, "\(upgrade.stderr)")
        #expect(try await InitCommandTests.run(["init", "--config", config]).status == 0)

        let first = try await InitCommandTests.run(["resync", "--config", config])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("Queued 1 rows without sync history"), "\(first.stdout)")
        #expect(first.stdout.contains("Cleared the pull cursor"))
        // Until the agent stamps them, the entries stay queued once.
        let again = try await InitCommandTests.run(["resync", "--config", config])
        #expect(again.status == 0 && again.stdout.contains("Queued 0 rows without sync history"), "already queued: \(again.stdout)")
        let status = try await InitCommandTests.run(["status", "--config", config, "--json"])
        #expect(status.stdout.contains("\"pendingChanges\" : 2"), "c1 from init and c2 from resync: \(status.stdout)")
    }
}
