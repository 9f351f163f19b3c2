import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on loopback that cuts connections in the middle of the request body: the
/// first `cutFirst` connections are closed on both sides after a random number of bytes from
/// the client (past the request head), the way a flaky store router drops uploads; later
/// connections pass (the link healed). libcurl reuses connections, so cutting by count, not
/// by chance, is what makes every run cut the same number.
final class CuttingProxy: @unchecked Sendable {
    let port: Int
    private let targetPort: Int
    private let cutFirst: Int
    private let listener: Int32
    private let lock = NSLock()
    private var generator: SystemRandomNumberGenerator
    private var connections = 0
    private var cuts = 0

    init(targetPort: Int, cutFirst: Int) throws {
        self.targetPort = targetPort
        self.cutFirst = cutFirst
        generator = SystemRandomNumberGenerator()
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        var reuse: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else { throw TestSetupError("the proxy cannot listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// (connections seen, connections cut)
    var counts: (connections: Int, cuts: Int) { lock.withLock { (connections, cuts) } }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let budget: Int? = lock.withLock {
                connections += 1
                guard cuts < cutFirst else { return nil }
                cuts += 1
                return Int.random(in: 600..<4_000, using: &generator)
            }
            Thread.detachNewThread { [self] in relay(client, cutAfter: budget) }
        }
    }

    private func relay(_ client: Int32, cutAfter budget: Int?) {
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: targetPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(client)
            close(server)
            return
        }
        let done = DispatchGroup()
        done.enter()
        Thread.detachNewThread {
            Self.pump(from: server, to: client, budget: nil)
            shutdown(client, Int32(SHUT_RDWR))
            done.leave()
        }
        Self.pump(from: client, to: server, budget: budget)
        // Cut (or finished): close both directions at once, as a dropped link would.
        shutdown(server, Int32(SHUT_RDWR))
        shutdown(client, Int32(SHUT_RDWR))
        done.wait()
        close(client)
        close(server)
    }

    private static func pump(from source: Int32, to destination: Int32, budget: Int?) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var left = budget ?? Int.max
        while left > 0 {
            let count = recv(source, &buffer, min(buffer.count, left), 0)
            guard count > 0 else { return }
            guard send(destination, buffer, count, Int32(MSG_NOSIGNAL)) == count else { return }
            left -= count
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
