import Foundation
import SyncAgent
import Testing

/// The agent's config checks that protect the dealer token (the `dealersync` executable that
/// reads the config cannot be imported by tests; the checks live in SyncAgent for that).
@Suite("agent config checks: hq.url and the token file")
struct AgentConfigChecksTests {
    @Test(
        "plain http:// to this machine is allowed (tests and the demo run HQ on loopback)",
        arguments: [
            "http://127.0.0.1:8080", "http://127.5.6.7/", "http://localhost:8080/v1", "http://LOCALHOST",
            "http://[::1]:8080", "http://[0:0:0:0:0:0:0:1]/", "http://user:secret@127.0.0.1:9",
        ])
    func loopbackAllowed(url: String) {
        #expect(AgentConfigChecks.hqURLProblem(url, allowInsecureHTTP: false) == nil)
    }

    @Test(
        "https:// is allowed to any host",
        arguments: ["https://hq.example.com", "https://10.0.0.5:8443", "HTTPS://[2001:db8::1]/"])
    func httpsAllowed(url: String) {
        #expect(AgentConfigChecks.hqURLProblem(url, allowInsecureHTTP: false) == nil)
    }

    @Test(
        "plain http:// to a LAN or public host is refused, naming the host and never the password",
        arguments: [
            ("http://192.168.1.20:8080", "192.168.1.20"), ("http://hq.example.com", "hq.example.com"),
            ("http://[2001:db8::1]:8080/", "2001:db8::1"), ("http://[::ffff:10.0.0.1]/", "::ffff:10.0.0.1"),
            ("HTTP://user:secret@10.0.0.5/", "10.0.0.5"), ("hq.example.com:8080", "hq.example.com"),
            // Spellings libcurl reads differently from inet_pton are refused, not guessed at.
            ("http://127.1/", "127.1"), ("http://0177.0.0.1/", "0177.0.0.1"), ("http://localhost.evil.example/", "localhost.evil.example"),
        ])
    func remoteRefused(url: String, host: String) throws {
        let problem = try #require(AgentConfigChecks.hqURLProblem(url, allowInsecureHTTP: false))
        #expect(problem.message.contains("host \(host) "), "\(problem.message)")
        #expect(problem.hint.contains("https://") && problem.hint.contains("hq.allow_insecure_http: true"), "\(problem.hint)")
        #expect(!problem.message.contains("secret") && !problem.hint.contains("secret"))
    }

    @Test("hq.allow_insecure_http: true allows plain http:// to a LAN host")
    func allowedWithSetting() {
        #expect(AgentConfigChecks.hqURLProblem("http://192.168.1.20:8080", allowInsecureHTTP: true) == nil)
        #expect(AgentConfigChecks.hqURLProblem("http://hq.lab", allowInsecureHTTP: true) == nil)
    }

    @Test("a token file only its owner may use passes", arguments: [0o100600, 0o100400, 0o100700] as [UInt32])
    func privateTokenFile(mode: UInt32) {
        #expect(AgentConfigChecks.tokenFileProblem(path: "/etc/dealersync/token", mode: mode) == nil)
    }

    @Test("a token file group or others may read or write is warned about, with chmod 600", arguments: [0o100644, 0o100640, 0o100604, 0o100620, 0o100602] as [UInt32])
    func openTokenFile(mode: UInt32) throws {
        let problem = try #require(AgentConfigChecks.tokenFileProblem(path: "/etc/dealersync/token", mode: mode))
        #expect(problem.message.contains("/etc/dealersync/token") && problem.message.contains(String(mode & 0o777, radix: 8)), "\(problem.message)")
        #expect(problem.hint == "chmod 600 /etc/dealersync/token")
    }
}
