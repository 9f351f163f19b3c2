import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to 127.0.0.1: for bytes no HTTP client would send (stalled and
/// trickled uploads, huge headers), and to see whether a server listens yet.
public final class LoopbackSocket: Sendable {
    public struct Refused: Error, CustomStringConvertible {
        public let port: Int
        public var description: String { "cannot connect to 127.0.0.1:\(port)" }
    }

    public let fd: Int32

    /// Connects and sends `bytes` (if any).
    public init(port: Int, send bytes: [UInt8] = []) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = fd >= 0 && withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
        guard connected else {
            if fd >= 0 { Glibc.close(fd) }
            throw Refused(port: port)
        }
        send(bytes)
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
    public static func accepts(port: Int) -> Bool {
        guard let socket = try? LoopbackSocket(port: port) else { return false }
        socket.close()
        return true
    }

    /// Sends `bytes`; the peer may have closed already (no SIGPIPE).
    public func send(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// What the server sends until it closes or `timeoutSeconds` pass without a byte, read
    /// on a thread of its own, so the wait holds none of the in-process servers' threads.
    public func readAll(timeoutSeconds: Int) async throws -> String {
        try await onOwnThread { self.readAllBlocking(timeoutSeconds: timeoutSeconds) }
    }

    /// The same, blocking the calling thread: for threads of their own and benchmarks.
    public func readAllBlocking(timeoutSeconds: Int) -> String {
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer += buffer.prefix(count)
        }
        return String(decoding: answer, as: UTF8.self)
    }

    /// Reads until the peer closes the connection (true), or until `timeoutSeconds` pass
    /// without a byte (false): whether the server let go of it, without a timing guess.
    public func waitForClose(timeoutSeconds: Int) async throws -> Bool {
        try await onOwnThread {
            var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = recv(self.fd, &buffer, buffer.count, 0)
                if count > 0 { continue }
                if count == 0 { return true }
                return errno != EAGAIN && errno != EWOULDBLOCK
            }
        }
    }

    public func close() { Glibc.close(fd) }
}
