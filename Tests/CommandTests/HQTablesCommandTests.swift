import Foundation
import SyncTestSupport
import Testing

/// `dealersync hq rebuild-tables` as an operator runs it (docs/HQ-TABLES.md).
@Suite("dealersync hq rebuild-tables")
struct HQTablesCommandTests {
    @Test("rebuilds and checks the SQL tables; --check only compares; with store.tables_path: off it says what to set")
    func rebuildAndCheck() async throws {
        let directory = TemporaryDirectory("hq-tables-cli")
        try DealerSchema.syncSchemaYAML.write(toFile: directory.file("schema.yaml"), atomically: true, encoding: .utf8)
        let config = directory.file("hq.yaml")
        try "store:\n  path: hq.sqlite\n  tables_path: hq.tables.sqlite\nschema_file: schema.yaml\n".write(toFile: config, atomically: true, encoding: .utf8)
        let rebuilt = try await InitCommandTests.run(["hq", "rebuild-tables", "--config", config])
        #expect(rebuilt.status == 0 && rebuilt.stdout.contains("Rebuilt \(directory.file("hq.tables.sqlite")) from 0 merged rows"), "\(rebuilt.stdout)\(rebuilt.stderr)")
        #expect(rebuilt.stdout.contains("customers: equal to the merged rows"))
        let checked = try await InitCommandTests.run(["hq", "rebuild-tables", "--check", "--config", config])
        #expect(checked.status == 0 && !checked.stdout.contains("Rebuilt") && checked.stdout.contains("customers: equal"), "\(checked.stdout)\(checked.stderr)")
        let status = try await InitCommandTests.run(["hq", "status", "--config", config])
        #expect(status.status == 0 && status.stdout.contains("SQL tables: \(directory.file("hq.tables.sqlite"))"), "\(status.stdout)\(status.stderr)")

        let plain = directory.file("plain.yaml")
        try "store:\n  path: hq.sqlite\n  tables_path: \"off\"\nschema_file: schema.yaml\n".write(toFile: plain, atomically: true, encoding: .utf8)
        let refused = try await InitCommandTests.run(["hq", "rebuild-tables", "--config", plain])
        #expect(refused.status == 1 && refused.stderr.contains("store.tables_path is off") && refused.stderr.contains("Try:"), "\(refused.stderr)")
    }
}
