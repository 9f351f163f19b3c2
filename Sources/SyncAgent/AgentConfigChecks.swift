#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Checks of the agent's config that protect the dealer token: whether HQ's URL would send it
/// in clear text, and whether its file is open to other users. Pure functions of their
/// arguments (the command line reads the config and the file's mode), so they are unit tested
/// here; the `dealersync` executable itself cannot be imported by tests.
public enum AgentConfigChecks {
    /// What is wrong and what to try, as every error in this project carries.
    public struct Problem: Equatable, Sendable {
        public var message: String
        public var hint: String
    }

    /// Nil when `url` may carry the token: https://, or plain HTTP to this machine (the demo and
    /// tests run HQ on loopback), or plain HTTP anywhere when `allowInsecureHTTP` is set.
    /// Otherwise the problem names the host, never the whole URL (it may hold a user:password).
    /// A URL without a scheme counts as plain HTTP, since that is what libcurl then speaks.
    public static func hqURLProblem(_ url: String, allowInsecureHTTP: Bool) -> Problem? {
        let (scheme, host) = schemeAndHost(url)
        if scheme == "https" || allowInsecureHTTP || isLoopback(host: host) { return nil }
        let shown = host.isEmpty ? "(no host)" : host
        return Problem(
            message: "hq.url is not https:// and its host \(shown) is not this machine: the dealer token and customer data would cross the network unencrypted",
            hint: "use an https:// hq.url (TLS in front of HQ, see deploy/nginx-hq.conf), or set hq.allow_insecure_http: true for a lab network")
    }

    /// Whether `host` (as in a URL, IPv6 without brackets) is this machine: `localhost`,
    /// 127.0.0.0/8 or ::1. Addresses are read with inet_pton, which takes only the plain
    /// dotted-decimal and IPv6 spellings: forms libcurl would read differently (`127.1`,
    /// `0177.0.0.1` as octal) are not called loopback, so they are refused, never let through.
    public static func isLoopback(host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { $0.first == 127 }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) == Array(repeating: 0, count: 15) + [1] }
        }
        return false
    }

    /// Nil when only the token file's owner may read or write it (`mode`, as `st_mode` from
    /// stat, has no group or other bits); otherwise a warning naming the file and the fix.
    /// A warning, not a refusal: the agent still syncs, but any local account could copy the
    /// token and push as this dealer.
    public static func tokenFileProblem(path: String, mode: UInt32, kind: String = "token file") -> Problem? {
        guard mode & 0o077 != 0 else { return nil }
        return Problem(
            message: "the \(kind) \(path) can be read or written by users other than its owner (mode \(String(format: "%04o", mode & 0o777)))",
            hint: "chmod 600 \(path)")
    }

    /// The scheme (lowercased, nil when the URL has none) and host (lowercased, IPv6 without
    /// brackets) of `url`, read by hand: Foundation's URL parsing of IPv6 hosts and of URLs
    /// without a scheme differs between platforms and versions.
    static func schemeAndHost(_ url: String) -> (scheme: String?, host: String) {
        var rest = Substring(url.trimmingCharacters(in: .whitespaces))
        var scheme: String?
        if let separator = rest.range(of: "://") {
            scheme = rest[..<separator.lowerBound].lowercased()
            rest = rest[separator.upperBound...]
        }
        var authority = rest.prefix { !"/?#".contains($0) }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let host: Substring
        if authority.hasPrefix("[") {
            host = authority.dropFirst().prefix { $0 != "]" }
        } else {
            host = authority.prefix { $0 != ":" }
        }
        return (scheme, host.lowercased())
    }
}
