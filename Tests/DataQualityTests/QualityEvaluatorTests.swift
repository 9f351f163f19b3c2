import DataQuality
import SyncCore
import Testing

/// Each rule of the sync schema's `quality:` on valid and invalid values (docs/QUALITY.md).
@Suite("Quality rules on one row")
struct QualityEvaluatorTests {
    static let today = "2026-12-03"

    static func rules(_ yaml: String) throws -> [ColumnQuality] {
        let document = "version: 1\ntables:\n  - name: t\n    direction: both\n    quality:\n" + yaml
        return try #require(try SyncSchema(yaml: document).table(named: "t")).quality
    }

    static func found(_ rules: [ColumnQuality], _ values: [String: SQLValue]) -> [String] {
        QualityEvaluator(rules: rules).issues(values, today: today).map { "\($0.column) \($0.rule.rawValue)" }
    }

    @Test("each format and rule, on values that pass and values that break it", arguments: [
        ("mobile", "format: mobile", SQLValue.text("+86 139-5729-0318"), nil),
        ("mobile", "format: mobile", .integer(13_957_290_318), nil),
        ("mobile", "format: mobile", .text("1391234567"), "format"),
        ("mobile", "format: mobile", .text("12912345678"), "format"),
        ("mobile", "format: mobile", .text("13800138000"), "placeholder"),
        ("mobile", "format: mobile", .blob([1, 2]), "format"),
        ("vin", "format: vin", .text("1M8GDM9AXKP042788"), nil),
        ("vin", "format: vin", .text("1M8GDM9A1KP042788"), "format"),
        ("plate", "format: plate", .text("沪A·12345"), nil),
        ("plate", "format: plate", .text("A12345"), "format"),
        ("email", "format: email", .text("wang@163.com"), nil),
        ("email", "format: email", .text("wang@"), "format"),
        ("born", "format: date\n        min: \"1900-01-02\"\n        max: today", .text("1985-02-28"), nil),
        ("born", "format: date\n        min: \"1900-01-02\"\n        max: today", .text("1900-01-01"), "range"),
        ("born", "format: date\n        min: \"1900-01-02\"\n        max: today", .text("2027-01-01"), "range"),
        ("born", "format: date", .text("2099-13-45"), "format"),
        ("gender", "allowed: [男, 女]", .text("男"), nil),
        ("gender", "allowed: [男, 女]", .text("M"), "not_allowed"),
        ("code", "pattern: \"[A-Z]{2}[0-9]{4}\"", .text("AB1234"), nil),
        ("code", "pattern: \"[A-Z]{2}[0-9]{4}\"", .text("AB12345"), "pattern"),
        ("name", "required: true", .text("  "), "missing"),
        ("name", "required: true", .null, "missing"),
        ("name", "required: true", .text("王"), nil),
    ] as [(String, String, SQLValue, String?)])
    func rule(column: String, rule: String, value: SQLValue, expected: String?) throws {
        let rules = try Self.rules("      - column: \(column)\n        \(rule)\n")
        #expect(Self.found(rules, [column: value]) == (expected.map { ["\(column) \($0)"] } ?? []))
    }

    @Test("an optional column left empty is no issue; a resident ID must agree with the row's birth date and gender")
    func residentID() throws {
        let rules = try Self.rules("""
                  - column: id_number
                    format: resident_id
                    birth_date_column: birth_date
                    gender_column: gender

            """)
        #expect(Self.found(rules, [:]) == [])
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let first17 = "31011519851231002"  // born 1985-12-31, 17th digit even: female
        let check = Array("10X98765432")[zip(first17.compactMap(\.wholeNumberValue), weights).reduce(0) { $0 + $1.0 * $1.1 } % 11]
        let number = SQLValue.text(first17 + String(check))
        #expect(Self.found(rules, ["id_number": number, "birth_date": .text("1985-12-31"), "gender": .text("女")]) == [])
        #expect(Self.found(rules, ["id_number": number, "birth_date": .text("1985/12/31"), "gender": .text("F")]) == [], "formats vary")
        #expect(Self.found(rules, ["id_number": number, "birth_date": .text("1985-12-30")]) == ["id_number contradicts"])
        #expect(Self.found(rules, ["id_number": number, "gender": .text("男")]) == ["id_number contradicts"])
        #expect(Self.found(rules, ["id_number": .text(first17 + (check == "0" ? "1" : "0"))]) == ["id_number format"])
    }

    @Test("the schema refuses rules that cannot be evaluated", arguments: [
        ("      - column: m\n        format: phone\n", "is not allowed; use one of mobile"),
        ("      - column: m\n        pattern: \"([a-z\"\n", "not a regular expression"),
        ("      - column: m\n        format: date\n        max: tomorrow\n", "use YYYY-MM-DD or today"),
        ("      - column: m\n        min: \"2000-01-01\"\n", "needs format: date"),
        ("      - column: m\n        shared_limit: 0\n", "at least 1"),
        ("      - column: m\n      - column: M\n", "repeats"),
        ("      - column: m\n        birth_date_column: b\n", "need format: resident_id"),
        ("      - column: m\n        colour: red\n", "not a known field"),
    ])
    func refusals(yaml: String, expected: String) {
        #expect(throws: SyncCoreError.self) { try Self.rules(yaml) }
        do {
            _ = try Self.rules(yaml)
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }
}
