import SyncCore

/// One column of one row that breaks a quality rule: what is wrong and what to correct,
/// never the value itself (issues travel to stores and into logs and pages).
public struct QualityIssue: Hashable, Sendable, Codable {
    public enum Rule: String, Hashable, Sendable, Codable, CaseIterable {
        /// A required column is empty.
        case missing
        /// The value is not of the column's format (mobile, resident ID, VIN, …).
        case format
        /// A known placeholder (13800138000, "先生").
        case placeholder
        case notAllowed = "not_allowed"
        case pattern
        /// A date outside the column's min…max.
        case range
        /// The resident ID's birth date or gender contradicts the row's birth date or gender column.
        case contradicts
        /// The value is held by more rows than the column's shared limit (counted at HQ
        /// across all stores; not found by `QualityEvaluator`, which sees one row).
        case shared
    }

    public var column: String
    public var rule: Rule
    /// What to correct, for the store's staff.
    public var hint: String

    public init(column: String, rule: Rule, hint: String) {
        self.column = column
        self.rule = rule
        self.hint = hint
    }

    /// Whether the issue counts against a filled value (all but `missing`).
    public var isInvalidValue: Bool { rule != .missing }
}
