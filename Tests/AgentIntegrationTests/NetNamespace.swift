import Foundation
import SyncTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A network namespace of our own, joined to this one by a veth pair: `hostAddress` on this
/// side, `innerAddress` inside. Bad links are made on this pair only (tbf, iptables inside
/// the namespace), so nothing else on the machine is touched. Needs root and iproute2.
final class NetNamespace: Sendable {
    let name: String
    let hostInterface: String
    let innerInterface: String
    let hostAddress: String
    let innerAddress: String

    /// Root, `ip`, `tc` and `iptables` present: the namespace tests can run.
    static var available: Bool {
        getuid() == 0 && ["/usr/sbin/ip", "/usr/sbin/tc"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
            && ["/usr/sbin/iptables", "/sbin/iptables"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init(index: Int) throws {
        let tag = "\(getpid() % 100_000)\(index)"
        name = "ds-\(tag)"
        hostInterface = "dsh\(tag)"
        innerInterface = "dsi\(tag)"
        let subnet = 10 + (Int(getpid()) % 200)
        hostAddress = "10.213.\(subnet).\(index * 4 + 1)"
        innerAddress = "10.213.\(subnet).\(index * 4 + 2)"
        try Self.ip(["netns", "add", name])
        do {
            try Self.ip(["link", "add", hostInterface, "type", "veth", "peer", "name", innerInterface])
            try Self.ip(["link", "set", innerInterface, "netns", name])
            try Self.ip(["addr", "add", "\(hostAddress)/30", "dev", hostInterface])
            try Self.ip(["link", "set", hostInterface, "up"])
            try inside(["ip", "addr", "add", "\(innerAddress)/30", "dev", innerInterface])
            try inside(["ip", "link", "set", innerInterface, "up"])
            try inside(["ip", "link", "set", "lo", "up"])
        } catch {
            remove()
            throw error
        }
    }

    deinit { remove() }

    private func remove() {
        // Deleting the namespace deletes the veth pair with it.
        _ = try? Self.run("/usr/sbin/ip", ["netns", "del", name])
        _ = try? Self.run("/usr/sbin/ip", ["link", "del", hostInterface])
    }

    /// The command line that runs `arguments` inside the namespace.
    func command(_ arguments: [String]) -> [String] { ["netns", "exec", name] + arguments }

    func inside(_ arguments: [String]) throws { try Self.ip(command(arguments)) }

    /// Both directions limited to `kbit` with a token bucket (netem is not in this kernel).
    func limitRate(kbit: Int) throws {
        let shape = ["root", "tbf", "rate", "\(kbit)kbit", "burst", "4kb", "latency", "2s"]
        try Self.run("/usr/sbin/tc", ["qdisc", "add", "dev", hostInterface] + shape)
        try inside(["tc", "qdisc", "add", "dev", innerInterface] + shape)
    }

    /// Drops each packet in and out of the namespace with `probability`.
    func dropPackets(probability: Double) throws {
        for chain in ["INPUT", "OUTPUT"] {
            try inside(["iptables", "-A", chain, "-m", "statistic", "--mode", "random", "--probability", "\(probability)", "-j", "DROP"])
        }
    }

    /// Cuts the namespace off (every packet dropped) or heals it.
    func partition(_ cut: Bool) throws {
        for (chain, direction) in [("INPUT", "-i"), ("OUTPUT", "-o")] {
            try inside(["iptables", cut ? "-I" : "-D", chain, direction, innerInterface, "-j", "DROP"])
        }
    }

    @discardableResult
    static func ip(_ arguments: [String]) throws -> String { try run("/usr/sbin/ip", arguments) }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let result = try ProcessRunner.runBlocking(URL(fileURLWithPath: executable), arguments)
        guard result.status == 0 else {
            throw TestSetupError("\(executable) \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        return result.stdout
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
