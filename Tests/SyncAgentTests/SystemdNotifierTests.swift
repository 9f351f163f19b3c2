import Foundation
import Glibc
import SyncAgent
import SyncTestSupport
import Testing

@Suite("systemd notifications")
struct SystemdNotifierTests {
    @Test("READY, STATUS, WATCHDOG and STOPPING arrive on a socket file")
    func socketFile() throws {
        let directory = TemporaryDirectory("notify")
        let path = directory.file("notify.sock")
        let receiver = try DatagramReceiver(path: path)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        #expect(notifier.ready())
        #expect(receiver.next() == "READY=1")
        #expect(notifier.status("pushing 12 rows\nthen pulling"))
        #expect(receiver.next() == "STATUS=pushing 12 rows then pulling")
        #expect(notifier.watchdog())
        #expect(receiver.next() == "WATCHDOG=1")
        #expect(notifier.stopping())
        #expect(receiver.next() == "STOPPING=1")
    }

    @Test("an abstract socket, named with a leading @")
    func abstractSocket() throws {
        let name = "@dealersync-test-\(UUID().uuidString)"
        let receiver = try DatagramReceiver(path: name)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": name])
        #expect(notifier.ready())
        #expect(receiver.next() == "READY=1")
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

/// A bound unix datagram socket standing in for systemd's notify socket.
private final class DatagramReceiver {
    private let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard result == 0 else {
            close(fd)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        // A missing datagram fails the test after 5 s instead of hanging it.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func next() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count < 0 ? nil : String(decoding: buffer[..<count], as: UTF8.self)
    }

    deinit { close(fd) }
}
