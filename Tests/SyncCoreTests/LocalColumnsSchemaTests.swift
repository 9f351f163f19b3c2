import SyncCore
import Testing

/// `local:` in the sync schema (docs/PRIVACY.md): read, written back the same, and refused
/// where HQ would need the column's value.
@Suite("Local columns in the sync schema")
struct LocalColumnsSchemaTests {
    static func schema(_ table: String, identity: String = "") -> String {
        "version: 4\ntables:\n  - name: customers\n    direction: both\n" + table + identity
    }

    @Test("read and written back")
    func roundTrip() throws {
        let schema = try SyncSchema(yaml: Self.schema("    local: [wechat, id_photo]\n"))
        #expect(schema.table(named: "customers")?.localColumns == ["wechat", "id_photo"])
        #expect(try SyncSchema(yaml: schema.yaml()) == schema)
        #expect(schema.yaml().contains(#"local: ["id_photo", "wechat"]"#))
    }

    @Test("a column HQ needs cannot be local: key, routing column, owned, quality rule, declared, identity")
    func refused() {
        let cases: [(String, String, String)] = [
            ("    key: [id]\n    columns:\n      - id: TEXT\n    local: [id]\n", "", "key column"),
            ("    routing_column: home_dealer\n    local: [home_dealer]\n", "", "routing column"),
            ("    owners: {customer_class: hq}\n    local: [customer_class]\n", "", "owner"),
            ("    quality:\n      - column: mobile\n        format: mobile\n    local: [mobile]\n", "", "quality rule"),
            ("    key: [id]\n    columns:\n      - id: TEXT\n      - wechat: TEXT\n    local: [wechat]\n", "", "declares"),
            ("    local: [mobile]\n", "identity:\n  people: {table: customers, mobile: mobile, name: name}\n", "links by 'mobile'"),
            ("    local: wechat\n", "", "wrong type"),
        ]
        for (table, identity, expected) in cases {
            do {
                _ = try SyncSchema(yaml: Self.schema(table, identity: identity))
                Issue.record("accepted: \(table)")
            } catch let error as SyncCoreError {
                #expect(error.message.contains(expected), "\(error.message)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test("a version made stricter later: keepingPrivacy adds the other version's local columns")
    func keepingPrivacy() throws {
        let old = try SyncSchema(yaml: Self.schema(""))
        let newer = try SyncSchema(yaml: Self.schema("    local: [wechat]\n").replacingOccurrences(of: "version: 4", with: "version: 5"))
        #expect(old.keepingPrivacy(of: newer).table(named: "customers")?.localColumns == ["wechat"])
        #expect(old.keepingPrivacy(of: newer).version == 4)
    }
}
