import Testing
@testable import SyncCore

@Suite("Sync schema document")
struct SyncSchemaTests {
    static let example = """
        version: 3
        tables:
          - name: customers
            direction: both
            routing_column: assigned_dealer
            owners:
              customer_class: hq
              sales_notes: origin
          - name: "order"
            direction: up
          - name: vehicle_models
            direction: down
            broadcast: true
            on_delete_conflict: delete-wins
        """

    @Test("a valid document decodes, keeps table order and round-trips through yaml()")
    func decodes() throws {
        let schema = try SyncSchema(yaml: Self.example)
        #expect(schema.version == 3)
        #expect(schema.tables.map(\.name) == ["customers", "order", "vehicle_models"])
        let customers = try #require(schema.table(named: "customers"))
        #expect(customers.direction == .both && customers.routingColumn == "assigned_dealer")
        #expect(customers.policy.owners == ["customer_class": .hq, "sales_notes": .origin])
        #expect(schema.table(named: "vehicle_models")?.policy.deleteRule == .deleteWins)
        #expect(try SyncSchema(yaml: schema.yaml()) == schema)
    }

    @Test(
        "an invalid document is refused with the path of the bad field and what is allowed",
        arguments: [
            ("version: 1\ntables:\n  - name: a\n    direction: sideways\n", "tables[0].direction \"sideways\" is not allowed; use one of both, up, down"),
            ("version: 1\ntables:\n  - name: a\n    direciton: both\n", "tables[0].direciton is not a known field"),
            ("version: 1\ntables:\n  - direction: both\n", "tables[0].name is missing"),
            ("version: 1\ntables:\n  - name: a\n    direction: both\n    owners:\n      x: dealer\n", "tables[0].owners.x \"dealer\" is not allowed; use one of hq, origin"),
            ("version: 1\ntables:\n  - name: a\n    direction: up\n  - name: a\n    direction: up\n", "tables[1].name repeats table 'a'"),
            ("version: 1\ntables:\n  - name: a\n    direction: up\n    broadcast: true\n", "tables[0].broadcast is true on an 'up' table"),
            ("version: 1\ntables: []\n", "tables is empty"),
            ("version: one\ntables: []\n", "version"),
            ("version: 1\ntables:\n  - name: a\n    direction: up\n    broadcast: maybe\n", "tables[0].broadcast"),
            ("version: 1\ntables:\n  - name: _dealersync_log\n    direction: up\n", "internal table"),
        ])
    func refusals(document: String, expected: String) {
        do {
            _ = try SyncSchema(yaml: document, source: "schema.yaml")
            Issue.record("accepted an invalid document")
        } catch let error as SyncCoreError {
            #expect(error.code == .invalidSchema)
            #expect(error.message.hasPrefix("schema.yaml: "))
            #expect(error.message.contains(expected), "\(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
