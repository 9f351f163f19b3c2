import Foundation
import SyncTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// What /proc says about a running process: resident memory and CPU time used so far.
struct ProcessProbe {
    let pid: Int32

    /// VmRSS from /proc/PID/status, in MB.
    func residentMB() throws -> Double {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { throw BenchError("no VmRSS in /proc/\(pid)/status") }
        return kilobytes / 1024
    }

    /// utime + stime from /proc/PID/stat, in seconds.
    func cpuSeconds() throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the parenthesised command name (which may hold spaces).
        guard let close = stat.lastIndex(of: ")") else { throw BenchError("unreadable /proc/\(pid)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw BenchError("unreadable /proc/\(pid)/stat")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

enum BenchBinaries {
    /// The `dealersync` binary built next to this bench binary (release with release), else
    /// the debug one; the figures name which was used.
    static func dealersync() throws -> URL {
        let sibling = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("dealersync")
        if FileManager.default.isExecutableFile(atPath: sibling.path) { return sibling }
        guard let binary = ProcessRunner.dealersyncBinary else {
            throw BenchError("no dealersync binary: build it first (swift build -c release --product dealersync)")
        }
        return binary
    }

    /// "release" or "debug", from the binary's path.
    static func flavour(_ url: URL) -> String { url.path.contains("/debug/") ? "debug" : "release" }
}
