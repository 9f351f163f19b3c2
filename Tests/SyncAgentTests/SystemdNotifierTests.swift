import Foundation
import Glibc
import SystemdNotify
import SyncTestSupport
import Testing

@Suite("systemd notifications")
struct SystemdNotifierTests {
    @Test("READY, STATUS, WATCHDOG and STOPPING arrive on a socket file")
    func socketFile() async throws {
        let directory = TemporaryDirectory("notify")
        let path = directory.file("notify.sock")
        let systemd = try FakeSystemd(path: path)
        defer { systemd.close() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        #expect(notifier.ready())
        #expect(notifier.status("pushing 12 rows\nthen pulling"))
        #expect(notifier.watchdog())
        #expect(notifier.stopping())
        #expect(await systemd.waitFor("STOPPING=1", seconds: 5) != nil)
        #expect(systemd.messages == ["READY=1", "STATUS=pushing 12 rows then pulling", "WATCHDOG=1", "STOPPING=1"])
    }

    @Test("an abstract socket, named with a leading @")
    func abstractSocket() async throws {
        let name = "@dealersync-test-\(UUID().uuidString)"
        let systemd = try FakeSystemd(path: name)
        defer { systemd.close() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": name])
        #expect(notifier.ready())
        #expect(await systemd.waitFor("READY=1", seconds: 5) == "READY=1")
    }

    @Test("without NOTIFY_SOCKET every call is a no-op")
    func unset() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(notifier.socketPath == nil)
        #expect(!notifier.ready())
        #expect(!notifier.watchdog())
        #expect(!notifier.status("x"))
        #expect(!notifier.stopping())
        #expect(notifier.watchdogInterval == nil)
    }

    @Test("a socket nobody listens on, or a path too long, fails quietly")
    func sendErrors() {
        let missing = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/dealersync/notify.sock"])
        #expect(!missing.ready())
        let tooLong = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 200)])
        #expect(!tooLong.watchdog())
    }

    @Test("the watchdog interval is half of WATCHDOG_USEC, for this process only")
    func watchdogInterval() {
        let ours = SystemdNotifier(environment: ["WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "\(getpid())"])
        #expect(ours.watchdogInterval == .seconds(30))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "10000000"]).watchdogInterval == .seconds(5))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"]).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "0"]).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "soon"]).watchdogInterval == nil)
    }
}
