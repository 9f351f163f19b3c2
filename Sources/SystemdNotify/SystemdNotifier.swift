#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells systemd how the agent is doing, the sd_notify protocol without libsystemd.
///
/// systemd passes a unix datagram socket in `$NOTIFY_SOCKET` to `Type=notify` services; each
/// datagram is newline-separated `KEY=value` fields (`man sd_notify`). A path starting with
/// `@` is a Linux abstract socket. When the variable is unset (run by hand, in tests, in a
/// container) every call does nothing. Sending never throws and never crashes: a lost
/// notification costs at worst a restart by the watchdog, which is what it is for.
public struct SystemdNotifier: Sendable {
    /// The socket from `$NOTIFY_SOCKET`, nil when not run by systemd.
    public let socketPath: String?
    /// How often to call `watchdog()`: half of `$WATCHDOG_USEC`, as `man sd_watchdog_enabled`
    /// advises; nil when systemd runs no watchdog for this process.
    public let watchdogInterval: Duration?

    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        watchdogInterval = Self.watchdogInterval(environment: environment, pid: Int(getpid()))
    }

    /// A notifier that sends nothing: for code run outside systemd (tests, the demo).
    public static let disabled = SystemdNotifier(environment: [:])

    /// Reads the process environment.
    public init() {
        var environment: [String: String] = [:]
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(key) { environment[key] = String(cString: value) }
        }
        self.init(environment: environment)
    }

    static func watchdogInterval(environment: [String: String], pid: Int) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let micros = Int64(text), micros > 0 else { return nil }
        // WATCHDOG_PID names the process the watchdog is meant for; a child that inherited
        // the variable must not ping on its parent's behalf.
        if let owner = environment["WATCHDOG_PID"], let ownerPID = Int(owner), ownerPID != pid { return nil }
        return .microseconds(micros / 2)
    }

    /// Start-up is complete: systemd marks the unit active.
    @discardableResult public func ready() -> Bool { notify("READY=1") }

    /// Still alive: resets the watchdog timer.
    @discardableResult public func watchdog() -> Bool { notify("WATCHDOG=1") }

    /// One line shown by `systemctl status`. Line breaks are flattened (they separate fields).
    @discardableResult public func status(_ text: String) -> Bool {
        let line = String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        return notify("STATUS=\(line)")
    }

    /// Shutting down: systemd stops expecting watchdog pings.
    @discardableResult public func stopping() -> Bool { notify("STOPPING=1") }

    /// Sends one datagram of raw fields. Returns whether it was sent; false also when not
    /// run by systemd.
    @discardableResult public func notify(_ fields: String) -> Bool {
        guard let socketPath else { return false }
        #if os(Linux)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard let resolved = Self.address(socketPath) else { return false }
        var address = resolved.address
        let length = resolved.length
        let message = Array(fields.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes { bytes in
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
        return sent == message.count
    }

    /// The `sockaddr_un` for a path, or for an abstract name when it starts with `@`
    /// (a leading NUL byte and no terminator). Nil when the path does not fit.
    static func address(_ path: String) -> (address: sockaddr_un, length: socklen_t)? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // A filesystem path needs room for its NUL terminator.
        guard !bytes.isEmpty, bytes.count + (abstract ? 0 : 1) <= capacity else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        return (address, socklen_t(offset + bytes.count + (abstract ? 0 : 1)))
    }
}
