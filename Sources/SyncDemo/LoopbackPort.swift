#if canImport(Glibc)
import Glibc
#endif

/// A free TCP port on 127.0.0.1, found by letting the kernel pick one for a socket that is
/// then closed. The demo's HQ listens there; a race with another program is possible but
/// harmless (the demo then fails to start HQ and says so).
public enum LoopbackPort {
    public static func free() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DemoError("cannot open a socket to find a free port", hint: "check the machine's socket limits") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw DemoError("cannot bind a loopback socket", hint: "check that 127.0.0.1 is up (ip addr show lo)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A demo step that failed: what and what to try.
public struct DemoError: Error, CustomStringConvertible {
    public var message: String
    public var hint: String
    init(_ message: String, hint: String) {
        self.message = message
        self.hint = hint
    }
    public var description: String { "\(message). Try: \(hint)" }
}
