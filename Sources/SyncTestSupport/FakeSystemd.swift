import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bound unix datagram socket standing in for systemd's `$NOTIFY_SOCKET`.
///
/// A thread reads it from the start until `close()`, as systemd does: the datagram queue of
/// a unix socket holds about 10 messages here, and a full queue blocks the sender, so a test
/// that read only when it wanted a message would hang the daemon it watches.
public final class FakeSystemd: @unchecked Sendable {
    /// The value for `NOTIFY_SOCKET`.
    public let path: String
    private let fd: Int32
    private let lock = NSCondition()
    private var received: [String] = []
    private var closed = false

    /// Binds `path` (a file path, or an abstract name starting with `@`).
    public init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let error = errno
            Glibc.close(fd)
            throw POSIXError(.init(rawValue: error) ?? .EIO)
        }
        // recv wakes every 200 ms so the reader notices close().
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in readUntilClosed() }
        thread.start()
    }

    /// Every datagram received so far, oldest first.
    public var messages: [String] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Waits until a datagram has a line equal to `field` (such as `READY=1`), or one that
    /// starts with it when `prefix` is true, and returns that datagram; nil after `seconds`.
    /// Datagrams already received count, so a message is never missed by asking late.
    @discardableResult
    public func waitFor(_ field: String, prefix: Bool = false, after index: Int = 0, seconds: Double = 30) async -> String? {
        try? await onOwnThread { self.waitBlocking(field, prefix: prefix, after: index, seconds: seconds) } ?? nil
    }

    private func waitBlocking(_ field: String, prefix: Bool, after index: Int, seconds: Double) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        lock.lock()
        defer { lock.unlock() }
        while true {
            let match = received.dropFirst(index).first { datagram in
                datagram.split(separator: "\n").contains { prefix ? $0.hasPrefix(field) : $0 == field }
            }
            if let match { return match }
            guard lock.wait(until: deadline) else { return nil }
        }
    }

    /// Stops reading and closes the socket.
    public func close() {
        lock.lock()
        closed = true
        lock.unlock()
    }

    private func readUntilClosed() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            lock.lock()
            let stop = closed
            lock.unlock()
            if stop { break }
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count >= 0 else { continue }
            lock.lock()
            received.append(String(decoding: buffer[..<count], as: UTF8.self))
            lock.broadcast()
            lock.unlock()
        }
        Glibc.close(fd)
        if path.hasPrefix("/") { unlink(path) }
    }
}
