import SyncCore
import Testing

/// `masked:` and `hashed:` columns (docs/PRIVACY.md): their documented forms, and the schema
/// rules that keep HQ from needing their values.
@Suite("Masked and hashed columns")
struct ColumnProtectionTests {
    static let key = try! ColumnHashKey(bytes: Array("0123456789abcdef0123456789abcdef".utf8))

    @Test("the masked form keeps three and four characters of text of 11 or more, the first of shorter text, the length, and nothing of numbers")
    func masked() {
        let cases: [(SQLValue, SQLValue)] = [
            (.text("13812345678"), .text("138****5678")),
            (.text("110101199003071234"), .text("110***********1234")),
            (.text("王小明"), .text("王**")),
            (.text("ABCDEFG"), .text("A******")),
            (.text("1381234567"), .text("1*********")),
            (.text("张三"), .text("张*")),
            (.text("北京市朝阳区建国路88号"), .text("北京市*****路88号")),
            (.text("x"), .text("*")),
            (.text(""), .text("")),
            (.integer(13812345678), .null),
            (.real(1.5), .null),
            (.blob([1, 2, 3]), .null),
            (.null, .null),
        ]
        for (value, form) in cases {
            #expect(MaskedForm.of(value) == form, "\(value)")
            #expect(MaskedForm.of(form) == form, "masking is idempotent: \(form)")
        }
    }

    @Test("the hashed form: keyed, idempotent through isHashed, the same for spaced and full-width input, different for another key")
    func hashed() throws {
        let hash = HashedForm.of(.text("13812345678"), key: Self.key)
        guard case .text(let text) = hash else { Issue.record("not text"); return }
        #expect(text.hasPrefix("hmac-sha256:") && text.count == 12 + 64)
        #expect(HashedForm.isHashed(hash))
        #expect(HashedForm.of(.text(" 138 1234 5678 "), key: Self.key) == hash)
        #expect(HashedForm.of(.text("１３８１２３４５６７８"), key: Self.key) == hash, "full-width digits")
        #expect(HashedForm.of(.text("A@Example.com"), key: Self.key) == HashedForm.of(.text("a@example.com"), key: Self.key))
        #expect(HashedForm.of(.integer(13812345678), key: Self.key) == hash, "an INTEGER hashes as its text")
        #expect(HashedForm.of(.text("13812345679"), key: Self.key) != hash)
        let other = try ColumnHashKey(bytes: Array("another key of at least 32 bytes!!".utf8))
        #expect(HashedForm.of(.text("13812345678"), key: other) != hash)
        #expect(HashedForm.of(.null, key: Self.key) == .null)
        for fake in ["hmac-sha256:xyz", "hmac-sha256:" + String(repeating: "A", count: 64), "13812345678"] {
            #expect(!HashedForm.isHashed(.text(fake)), "\(fake)")
        }
    }

    @Test("a hash key shorter than 32 bytes is refused with how to make one; a trailing newline is not part of it")
    func keyLength() throws {
        #expect(throws: SyncCoreError.self) { try ColumnHashKey(bytes: Array("short".utf8)) }
        let withNewline = try ColumnHashKey(bytes: Array("0123456789abcdef0123456789abcdef\n".utf8))
        #expect(withNewline == Self.key)
        do {
            _ = try ColumnHashKey(bytes: Array(repeating: 0x41, count: 31))
        } catch let error as SyncCoreError {
            #expect(error.message.contains("31 bytes") && error.hint.contains("/dev/urandom"))
        }
    }

    static let schema = try! SyncSchema(yaml: """
        version: 3
        tables:
          - name: customers
            direction: both
            masked: [address]
            hashed: [mobile]
            local: [wechat]
          - name: leads
            direction: both
        """)

    @Test("a version leaving the store carries masked and hashed forms only; without the key a hashed column is left out")
    func protectVersion() throws {
        let dot = Dot(node: try NodeID("DLR-A"), counter: 1)
        let version = RowVersion.inserted(
            table: "customers", key: RowKey([.text("C-1")]),
            values: ["name": .text("王小明"), "mobile": .text("13812345678"), "address": .text("北京市朝阳区建国路88号")],
            dot: dot, hlc: HLCTimestamp(physicalMillis: 1, logical: 0))
        let withKey = ColumnProtection(schema: Self.schema, key: Self.key).protect(version)
        let shown = withKey.values(policy: .lastWriterWins)
        #expect(shown["name"] == .text("王小明"))
        #expect(shown["address"] == .text("北京市*****路88号"))
        #expect(shown["mobile"] == HashedForm.of(.text("13812345678"), key: Self.key))
        #expect(withKey.columns["mobile"]?.first?.dot == dot, "dots and clocks stay")
        #expect(ColumnProtection(schema: Self.schema, key: Self.key).protect(withKey) == withKey, "protecting twice changes nothing")
        let withoutKey = ColumnProtection(schema: Self.schema, key: nil)
        #expect(withoutKey.protect(version).columns["mobile"] == nil)
        #expect(withoutKey.protect(withKey).columns["mobile"] == withKey.columns["mobile"], "a hashed form passes without the key")
        #expect(withoutKey.tablesMissingKey == ["customers"])
        #expect(ColumnProtection(schema: Self.schema, key: Self.key).tablesMissingKey.isEmpty)
        let lead = RowVersion.inserted(table: "leads", key: RowKey([.text("L-1")]), values: ["mobile": .text("13812345678")], dot: dot, hlc: .zero)
        #expect(withoutKey.protect(lead) == lead, "another table's column of the same name is not touched")
    }

    @Test("read and written back; keepingPrivacy adds a newer version's policies")
    func roundTrip() throws {
        #expect(try SyncSchema(yaml: Self.schema.yaml()) == Self.schema)
        let old = try SyncSchema(yaml: "version: 2\ntables:\n  - name: customers\n    direction: both\n")
        let merged = old.keepingPrivacy(of: Self.schema).table(named: "customers")
        #expect(merged?.maskedColumns == ["address"] && merged?.hashedColumns == ["mobile"] && merged?.localColumns == ["wechat"])
    }

    @Test("a column HQ needs cannot be masked or hashed; a column takes one policy; identity may link by a hashed column, not a masked one")
    func refused() {
        func schema(_ table: String, identity: String = "") -> String {
            "version: 4\ntables:\n  - name: customers\n    direction: both\n" + table + identity
        }
        let cases: [(String, String, String)] = [
            ("    key: [id]\n    columns:\n      - id: TEXT\n    masked: [id]\n", "", "key column"),
            ("    routing_column: home_dealer\n    hashed: [home_dealer]\n", "", "routing column"),
            ("    owners: {customer_class: hq}\n    masked: [customer_class]\n", "", "owner"),
            ("    quality:\n      - column: mobile\n        format: mobile\n    hashed: [mobile]\n", "", "quality rule"),
            ("    masked: [mobile]\n    hashed: [mobile]\n", "", "one policy"),
            ("    local: [mobile]\n    masked: [mobile]\n", "", "one policy"),
            ("    masked: [mobile]\n", "identity:\n  people: {table: customers, mobile: mobile, name: name}\n", "masks"),
        ]
        for (table, identity, expected) in cases {
            do {
                _ = try SyncSchema(yaml: schema(table, identity: identity))
                Issue.record("accepted: \(table)")
            } catch let error as SyncCoreError {
                #expect(error.message.contains(expected), "\(error.message)")
            } catch {
                Issue.record("\(error)")
            }
        }
        #expect(throws: Never.self) {
            try SyncSchema(yaml: schema("    hashed: [mobile]\n", identity: "identity:\n  people: {table: customers, mobile: mobile, name: name}\n"))
        }
        #expect(throws: Never.self) {
            try SyncSchema(yaml: schema("    key: [id]\n    columns:\n      - id: TEXT\n      - address: TEXT\n    masked: [address]\n"))
        }
    }
}
