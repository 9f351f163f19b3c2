import CustomerIdentity
import SyncCore

/// Evaluates a table's quality rules (`TableSpec.quality`) on one row's shown values. Pure
/// and per row, so HQ runs it as each row merges: fixing a value closes its issue at the
/// next merge, breaking it opens one, and nothing is ever rescanned.
public struct QualityEvaluator: Sendable {
    public let rules: [ColumnQuality]
    /// Compiled once. `Regex` is not marked Sendable, but a compiled regex is never mutated:
    /// matching only reads it.
    nonisolated(unsafe) private let patterns: [String: Regex<AnyRegexOutput>]

    /// Rules whose pattern does not compile are skipped (the schema validator refuses them).
    public init(rules: [ColumnQuality]) {
        self.rules = rules
        var patterns: [String: Regex<AnyRegexOutput>] = [:]
        for rule in rules {
            if let pattern = rule.pattern, let regex = try? Regex(pattern) { patterns[rule.column] = regex }
        }
        self.patterns = patterns
    }

    /// The row's issues, at most one per column (the first rule it breaks, in the order
    /// missing, placeholder, format, allowed values, pattern, range, contradiction).
    /// `today` is YYYY-MM-DD, for `max: today`.
    public func issues(_ values: [String: SQLValue], today: String) -> [QualityIssue] {
        rules.compactMap { rule in issue(rule, values, today: today) }
    }

    private func issue(_ rule: ColumnQuality, _ values: [String: SQLValue], today: String) -> QualityIssue? {
        let column = rule.column
        func found(_ kind: QualityIssue.Rule, _ hint: String) -> QualityIssue { QualityIssue(column: column, rule: kind, hint: hint) }
        guard let text = Self.text(values[column] ?? .null) else {
            return rule.required ? found(.missing, "\(column) is empty; it is required\(rule.description.map { " (\($0))" } ?? "")") : nil
        }
        switch rule.format {
        case .mobile?:
            guard let mobile = MobileNumber.normalize(text) else {
                return found(.format, "\(column) is not a mainland mobile number (11 digits starting 13–19, +86 allowed)")
            }
            if MobileNumber.isPlaceholder(mobile) { return found(.placeholder, "\(column) is a placeholder number; ask for the customer's own mobile") }
        case .residentID?:
            guard let number = ResidentIDNumber.normalize(text) else {
                return found(.format, "\(column) is not a valid resident ID number (18 characters with its check character)")
            }
            if let birthColumn = rule.birthDateColumn, let stored = values[birthColumn].flatMap(Self.text).flatMap(CalendarDate.normalize),
                let carried = ResidentIDNumber.birthDate(of: number), carried != stored
            {
                return found(.contradicts, "\(column) carries another birth date than \(birthColumn); check both against the ID card")
            }
            if let genderColumn = rule.genderColumn, let stored = values[genderColumn].flatMap(Self.text).flatMap(Self.gender),
                let carried = ResidentIDNumber.gender(of: number), carried != stored
            {
                return found(.contradicts, "\(column) carries another gender than \(genderColumn); check both against the ID card")
            }
        case .vin?:
            if VehicleIdentificationNumber.normalize(text) == nil {
                return found(.format, "\(column) is not a valid VIN (17 characters without I, O, Q, with its check digit)")
            }
        case .email?:
            if EmailAddress.normalize(text) == nil { return found(.format, "\(column) is not an email address") }
        case .plate?:
            if LicencePlate.normalize(text) == nil { return found(.format, "\(column) is not a mainland licence plate (e.g. 沪A12345)") }
        case .date?:
            guard let date = CalendarDate.normalize(text) else { return found(.format, "\(column) is not a calendar date (YYYY-MM-DD)") }
            let low = rule.min.map { $0 == "today" ? today : $0 } ?? "0000-00-00"
            let high = rule.max.map { $0 == "today" ? today : $0 } ?? "9999-99-99"
            if !CalendarDate.isBetween(date, low, high) {
                return found(.range, "\(column) is outside \(rule.min ?? "any")…\(rule.max ?? "any")")
            }
        case nil:
            break
        }
        if let allowed = rule.allowed, !allowed.contains(text) {
            return found(.notAllowed, "\(column) must be one of \(allowed.joined(separator: ", "))")
        }
        if let regex = patterns[column], (try? regex.wholeMatch(in: text)) == nil {
            return found(.pattern, "\(column) does not have the required form")
        }
        return nil
    }

    /// The value as trimmed text; nil for NULL and blank. Numbers count as their text
    /// (a DMS may keep a mobile in an INTEGER column).
    static func text(_ value: SQLValue) -> String? {
        let text: String
        switch value {
        case .null: return nil
        // Bytes are a filled value of no text format: they fail every format check.
        case .blob: return "\u{FFFD}"
        case .integer(let number): text = String(number)
        case .real(let number): text = String(number)
        case .text(let string): text = string
        }
        return trimmed(text)
    }

    /// `text` without leading and trailing whitespace, nil when nothing is left. Foundation's
    /// `trimmingCharacters` bridges through NSString: a third of this type's cost per row.
    static func trimmed(_ text: String) -> String? {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return nil }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        if first == scalars.startIndex && last == scalars.index(before: scalars.endIndex) { return text }
        return String(scalars[first...last])
    }

    /// Gender as stores write it: 男/女, M/F, male/female, 1/2.
    static func gender(_ text: String) -> ResidentIDNumber.Gender? {
        switch text.lowercased() {
        case "男", "m", "male", "1": .male
        case "女", "f", "female", "2": .female
        default: nil
        }
    }
}
