/// The data-quality rules of one column (`quality:` of a table in the sync schema;
/// docs/QUALITY.md), with the field dictionary's description and definition. HQ evaluates
/// them as rows merge (`DataQuality`); stores ignore them.
public struct ColumnQuality: Hashable, Sendable {
    /// Formats with a checker in `CustomerIdentity`.
    public enum Format: String, Hashable, Sendable, CaseIterable {
        /// A mainland mobile number (11 digits, 1[3-9]…; +86/0086, spaces and dashes allowed).
        case mobile
        /// A resident identity number with its GB 11643 check character (or the old 15 digits).
        case residentID = "resident_id"
        /// A VIN with its ISO 3779 check digit.
        case vin
        case email
        /// A mainland licence plate (province character, letter, 5 or 6 characters).
        case plate
        /// A calendar date (YYYY-MM-DD and common variants), within `min`…`max` when given.
        case date
    }

    public var column: String
    public var required: Bool
    public var format: Format?
    /// The only values allowed (compared after trimming).
    public var allowed: [String]?
    /// A regular expression the whole value must match.
    public var pattern: String?
    /// Date bounds (YYYY-MM-DD, or `today`), with `format: date`.
    public var min: String?
    public var max: String?
    /// A value held by more rows than this, across all stores, is flagged on every row that
    /// holds it (the store's own number typed for its customers).
    public var sharedLimit: Int?
    /// With `format: resident_id`: the columns holding the birth date and the gender the
    /// number must agree with.
    public var birthDateColumn: String?
    public var genderColumn: String?
    /// The field dictionary: what the column is, and what a correct value means.
    public var description: String?
    public var definition: String?

    public init(
        column: String, required: Bool = false, format: Format? = nil, allowed: [String]? = nil, pattern: String? = nil,
        min: String? = nil, max: String? = nil, sharedLimit: Int? = nil, birthDateColumn: String? = nil, genderColumn: String? = nil,
        description: String? = nil, definition: String? = nil
    ) {
        self.column = column
        self.required = required
        self.format = format
        self.allowed = allowed
        self.pattern = pattern
        self.min = min
        self.max = max
        self.sharedLimit = sharedLimit
        self.birthDateColumn = birthDateColumn
        self.genderColumn = genderColumn
        self.description = description
        self.definition = definition
    }
}
