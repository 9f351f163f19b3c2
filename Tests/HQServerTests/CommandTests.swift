import Foundation
import HQServer
import SyncCore
import SyncTestSupport
import Testing

/// Runs the built `dealersync` binary (next to the test bundle after `swift build
/// --build-tests`) against a store file, with no server running.
@Suite("dealersync hq commands")
struct CommandTests {
    static let binary = ProcessRunner.dealersyncBinary

    func run(_ arguments: [String]) async throws -> ProcessResult {
        try await ProcessRunner.run(try #require(Self.binary), arguments)
    }

    @Test("add-dealer prints a token once and stores only its hash; ids are never reused; status reads the store", .enabled(if: binary != nil))
    func dealerLifecycle() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hq-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = directory.appendingPathComponent("hq.sqlite").path

        let added = try await run(["hq", "add-dealer", "DLR-0421", "--name", "Lyon Nord", "--store", store])
        #expect(added.status == 0)
        let token = try #require(added.stdout.split(separator: "\n").first { $0.hasPrefix("token: ") }?.dropFirst(7))
        #expect(token.count == 64 && token.allSatisfy(\.isHexDigit))
        for file in [store, store + "-wal"] where FileManager.default.fileExists(atPath: file) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(bytes.range(of: Data(token.utf8)) == nil, "the token itself is not stored")
        }
        let opened = try SQLiteSyncStore(path: store)
        #expect(try await opened.principal(tokenSHA256: Tokens.sha256(of: String(token)))?.id == "DLR-0421")

        #expect(try await run(["hq", "revoke-dealer", "DLR-0421", "--store", store]).status == 0)
        let again = try await run(["hq", "add-dealer", "DLR-0421", "--store", store])
        #expect(again.status == 1)
        #expect(again.stderr.contains("never reused"))
        #expect(again.stderr.contains("Try: "))

        let reader = try await run(["hq", "add-reader", "crm-export", "--writer", "--store", store])
        #expect(reader.stdout.contains("added writer crm-export"))

        let status = try await run(["hq", "status", "--json", "--store", store])
        #expect(status.status == 0)
        let fleet = try JSONDecoder().decode(FleetStatus.self, from: Data(status.stdout.utf8))
        #expect(fleet.dealers.map(\.id) == ["DLR-0421"])
        #expect(fleet.dealers.first?.revoked == true)
        let table = try await run(["hq", "status", "--store", store])
        #expect(table.stdout.contains("DLR-0421") && table.stdout.contains("revoked"))

        let noStore = try await run(["hq", "status"])
        #expect(noStore.status == 1)
        #expect(noStore.stderr.contains("Try: pass --config hq.yaml or --store PATH"))
    }
}
