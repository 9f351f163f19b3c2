import Foundation
import Glibc
import SyncTestSupport
import Testing

/// Both daemons as systemd runs them (`Type=notify`, `WatchdogSec=`): the test binds the
/// notify socket, keeps reading it, and checks READY, STATUS, WATCHDOG and STOPPING.
@Suite("daemons under systemd")
struct SystemdDaemonTests {
    /// systemd's variables with a 400 ms watchdog: the daemon pings every 200 ms.
    static func environment(_ systemd: FakeSystemd) -> [String: String] {
        ["NOTIFY_SOCKET": systemd.path, "WATCHDOG_USEC": "400000"]
    }

    @Test("hq serve: READY once it listens, WATCHDOG while the store answers, STOPPING on SIGTERM")
    func hqServe() async throws {
        let binary = try #require(ProcessRunner.dealersyncBinary, "build first: swift build")
        let directory = TemporaryDirectory("systemd-hq")
        let systemd = try FakeSystemd(path: directory.file("notify.sock"))
        defer { systemd.close() }
        let port = try LoopbackPort.free()
        try "version: 1\ntables:\n  - name: customers\n    direction: both\n".write(toFile: directory.file("schema.yaml"), atomically: true, encoding: .utf8)
        try "http:\n  port: \(port)\nstore:\n  path: \(directory.file("hq.sqlite"))\nschema_file: schema.yaml\n"
            .write(toFile: directory.file("hq.yaml"), atomically: true, encoding: .utf8)
        let hq = ChildProcess(
            executable: binary, arguments: ["hq", "serve", "--config", directory.file("hq.yaml")],
            environment: Self.environment(systemd), logPath: directory.file("hq.log"))
        try hq.start()
        try #require(await systemd.waitFor("READY=1") != nil, "no READY=1 from hq serve:\n\(hq.log().suffix(2000))")
        // READY means listening: a connection is accepted at once.
        #expect(LoopbackSocket.accepts(port: port), "READY=1 came before the listener was bound")
        #expect(await systemd.waitFor("STATUS=serving on", prefix: true) != nil, "\(systemd.messages)")
        let ready = systemd.messages.firstIndex { $0 == "READY=1" } ?? 0
        #expect(await systemd.waitFor("WATCHDOG=1", after: ready, seconds: 10) != nil, "no watchdog ping: \(systemd.messages)")
        let status = await hq.stop(within: 40)
        #expect(status == 0, "hq serve did not stop cleanly:\n\(hq.log().suffix(2000))")
        #expect(await systemd.waitFor("STOPPING=1", seconds: 5) != nil, "\(systemd.messages)")
    }

    @Test("agent run: READY, then WATCHDOG pings also while it waits out an HQ that does not answer; STOPPING on SIGTERM")
    func agentRun() async throws {
        let directory = TemporaryDirectory("systemd-agent")
        let systemd = try FakeSystemd(path: directory.file("notify.sock"))
        defer { systemd.close() }
        let dms = directory.file("dms.sqlite")
        #expect(try await ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/sqlite3"), [dms, "CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT);"]).status == 0)
        try "version: 1\ntables:\n  - name: customers\n    direction: both\n".write(toFile: directory.file("schema.yaml"), atomically: true, encoding: .utf8)
        try "secret-token\n".write(toFile: directory.file("token"), atomically: true, encoding: .utf8)
        chmod(directory.file("token"), 0o600)
        // Nothing listens on this port, and retries wait seconds: far longer than the 200 ms
        // ping interval, as an HQ outage's backoff (minutes) is longer than WatchdogSec.
        let port = try LoopbackPort.free()
        let config = directory.file("agent.yaml")
        try """
            node_id: DLR-7
            database: \(dms)
            schema_file: \(directory.file("schema.yaml"))
            hq:
              url: http://127.0.0.1:\(port)
              token_file: \(directory.file("token"))
            sync:
              retry_base_millis: 5000
              retry_cap_millis: 5000
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let initialised = try await InitCommandTests.run(["init", "--config", config])
        try #require(initialised.status == 0, "\(initialised.stderr)")
        let agent = ChildProcess(
            executable: try #require(ProcessRunner.dealersyncBinary), arguments: ["agent", "run", "--config", config],
            environment: Self.environment(systemd), logPath: directory.file("agent.log"))
        try agent.start()
        try #require(await systemd.waitFor("READY=1") != nil, "no READY=1 from agent run:\n\(agent.log().suffix(2000))")
        let retrying = try #require(await systemd.waitFor("STATUS=retrying", prefix: true), "\(systemd.messages)")
        let failedAt = systemd.messages.firstIndex(of: retrying) ?? 0
        // Five pings after the failure: all sent while the agent waits its retry delay.
        let pinged = try await waitUntil(seconds: 10, every: 50) {
            systemd.messages.dropFirst(failedAt + 1).filter { $0 == "WATCHDOG=1" }.count >= 5
        }
        #expect(pinged, "the agent stopped pinging while it waited to retry: \(systemd.messages.suffix(10))")
        let status = await agent.stop(within: 30)
        #expect(status == 0, "agent run did not stop cleanly:\n\(agent.log().suffix(2000))")
        #expect(await systemd.waitFor("STOPPING=1", seconds: 5) != nil, "\(systemd.messages.suffix(5))")
    }
}
