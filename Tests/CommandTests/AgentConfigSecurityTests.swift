import Foundation
import SyncTestSupport
import Testing

/// `agent once` wires the token checks of SyncAgent's AgentConfigChecks (unit tested in
/// SyncAgentTests): plain HTTP to another host is refused before anything is sent, and a
/// token file others may read is warned about by name, never by content.
@Suite("agent config: hq.url and token file checks")
struct AgentConfigSecurityTests {
    static let token = "TOKEN-NEVER-PRINTED-0421"

    /// A config whose database does not exist: the checks come first, so the run stops there
    /// after them when they pass.
    func config(url: String, tokenMode: Int, extra: String = "") throws -> (directory: TemporaryDirectory, config: String, tokenFile: String) {
        let directory = TemporaryDirectory("agent-config-security")
        let tokenFile = directory.file("hq-token")
        #expect(FileManager.default.createFile(atPath: tokenFile, contents: Data(Self.token.utf8), attributes: [.posixPermissions: tokenMode]))
        let config = directory.file("agent.yaml")
        try """
            node_id: DLR-0421
            database: \(directory.file("absent-dms.sqlite"))
            hq:
              url: \(url)
              token_file: \(tokenFile)
            \(extra)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        return (directory, config, tokenFile)
    }

    @Test("plain http:// to a LAN host is refused, naming the host and both ways out")
    func lanHTTPRefused() async throws {
        let setup = try config(url: "http://192.168.1.20:8080", tokenMode: 0o600)
        let once = try await InitCommandTests.run(["agent", "once", "--config", setup.config])
        #expect(once.status == 2)
        #expect(once.stderr.contains("192.168.1.20") && once.stderr.contains("https://") && once.stderr.contains("hq.allow_insecure_http: true"), "\(once.stderr)")
        #expect(!once.stderr.contains(Self.token))
    }

    @Test("hq.allow_insecure_http: true lets it through; loopback needs no setting")
    func allowed() async throws {
        for (url, extra) in [("http://192.168.1.20:8080", "  allow_insecure_http: true"), ("http://127.0.0.1:9", ""), ("http://[::1]:9", "")] {
            let setup = try config(url: url, tokenMode: 0o600, extra: extra)
            let once = try await InitCommandTests.run(["agent", "once", "--config", setup.config])
            // It gets as far as the (absent) DMS database.
            #expect(once.stderr.contains("absent-dms.sqlite") && !once.stderr.contains("not https://"), "\(url): \(once.stderr)")
        }
    }

    @Test("a token file group or others may read is warned about with chmod 600; a private one is not")
    func tokenFileMode() async throws {
        let open = try config(url: "http://127.0.0.1:9", tokenMode: 0o644)
        let warned = try await InitCommandTests.run(["agent", "once", "--config", open.config])
        #expect(warned.stderr.contains("Warning: the token file \(open.tokenFile)") && warned.stderr.contains("chmod 600 \(open.tokenFile)"), "\(warned.stderr)")
        #expect(!warned.stderr.contains(Self.token))

        let closed = try config(url: "http://127.0.0.1:9", tokenMode: 0o600)
        let quiet = try await InitCommandTests.run(["agent", "once", "--config", closed.config])
        #expect(!quiet.stderr.contains("Warning"), "\(quiet.stderr)")
    }
}
