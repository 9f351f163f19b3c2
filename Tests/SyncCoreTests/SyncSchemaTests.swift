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

    @Test("declared columns, key and indexes decode in order and round-trip")
    func declaredColumns() throws {
        let schema = try SyncSchema(yaml: """
            version: 1
            tables:
              - name: customers
                direction: both
                key: [id]
                columns:
                  - id: TEXT
                  - mobile: VARCHAR(20)
                  - balance: DECIMAL(10, 2)
                  - score: DOUBLE PRECISION
                  - notes: ""
                indexes:
                  - [mobile]
                  - [score, id]
            """)
        let customers = try #require(schema.table(named: "customers"))
        #expect(customers.columns?.map(\.name) == ["id", "mobile", "balance", "score", "notes"])
        #expect(customers.columns?.map(\.declaredType) == ["TEXT", "VARCHAR(20)", "DECIMAL(10, 2)", "DOUBLE PRECISION", ""])
        #expect(customers.key == ["id"] && customers.indexes == [["mobile"], ["score", "id"]])
        #expect(try SyncSchema(yaml: schema.yaml()) == schema)
    }

    @Test("a declared type is a plain SQL type or nothing", arguments: [
        ("TEXT", true), ("VARCHAR(20)", true), ("DECIMAL(10, 2)", true), ("DOUBLE PRECISION", true), ("", true), ("NUMERIC(-1)", true),
        ("TEXT)", false), ("TEXT); DROP TABLE rows", false), ("1TEXT", false), ("VARCHAR(", false), ("VARCHAR(a)", false),
        ("INT(1,2,3)", false), ("TEXT -- x", false), ("TEXT\nX", false), ("\"quoted\"", false), ("(5)", false),
    ])
    func safeTypes(_ type: String, _ safe: Bool) {
        #expect(ColumnSpec.isSafe(declaredType: type) == safe, "\(type)")
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
            // Declared columns for HQ's SQL tables (docs/HQ-TABLES.md).
            ("version: 1\ntables:\n  - name: a\n    direction: up\n    key: [id]\n", "tables[0].key is given without columns"),
            ("version: 1\ntables:\n  - name: a\n    direction: up\n    columns:\n      - id: TEXT\n", "tables[0].key is missing"),
            ("version: 1\ntables:\n  - name: a\n    direction: up\n    key: [x]\n    columns:\n      - id: TEXT\n", "names 'x', which is not among the columns"),
            ("version: 1\ntables:\n  - name: a\n    direction: up\n    key: [id]\n    columns:\n      - id: TEXT\n      - ID: TEXT\n", "repeats column 'ID'"),
            ("version: 1\ntables:\n  - name: a\n    direction: up\n    key: [id]\n    columns:\n      - id: TEXT); DROP TABLE rows; --\n", "is not a plain SQL type"),
            ("version: 1\ntables:\n  - name: a\n    direction: up\n    key: [id]\n    columns:\n      - id: TEXT\n        x: TEXT\n", "write one column a line"),
            ("version: 1\ntables:\n  - name: a\n    direction: up\n    key: [id]\n    columns:\n      - id: TEXT\n    indexes:\n      - [mobile]\n", "tables[0].indexes[0] names 'mobile'"),
            ("version: 1\ntables:\n  - name: a\n    direction: up\n    indexes:\n      - [id]\n", "needs declared columns"),
            ("version: 1\ntables:\n  - name: a\n    direction: up\n    key: [id]\n    columns:\n      - id: TEXT\n      - _Origin: TEXT\n", "a column HQ adds to its tables"),
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
