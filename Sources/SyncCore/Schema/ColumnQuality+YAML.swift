/// One entry of a table's `quality:` list in the sync schema (docs/QUALITY.md):
///
///     quality:
///       - column: mobile
///         required: true
///         format: mobile
///         shared_limit: 3
///         description: 客户本人手机号
///         definition: The customer's own mainland mobile, never the store's number.
struct QualityDocument: Decodable {
    var rule: ColumnQuality

    enum CodingKeys: String, CodingKey, CaseIterable {
        case column, required, format, allowed, pattern, min, max, shared_limit, birth_date_column, gender_column, description, definition
    }

    init(from decoder: Decoder) throws {
        try refuseUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let format = try container.decodeIfPresent(String.self, forKey: .format).map { raw in
            guard let format = ColumnQuality.Format(rawValue: raw) else {
                throw SchemaFieldError(
                    path: container.codingPath + [CodingKeys.format],
                    problem: "\"\(raw)\" is not allowed; use one of \(ColumnQuality.Format.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return format
        }
        rule = ColumnQuality(
            column: try container.decode(String.self, forKey: .column),
            required: try container.decodeIfPresent(Bool.self, forKey: .required) ?? false, format: format,
            allowed: try container.decodeIfPresent([String].self, forKey: .allowed),
            pattern: try container.decodeIfPresent(String.self, forKey: .pattern),
            min: try container.decodeIfPresent(String.self, forKey: .min), max: try container.decodeIfPresent(String.self, forKey: .max),
            sharedLimit: try container.decodeIfPresent(Int.self, forKey: .shared_limit),
            birthDateColumn: try container.decodeIfPresent(String.self, forKey: .birth_date_column),
            genderColumn: try container.decodeIfPresent(String.self, forKey: .gender_column),
            description: try container.decodeIfPresent(String.self, forKey: .description),
            definition: try container.decodeIfPresent(String.self, forKey: .definition))
    }

    /// Rules name real columns (declared ones, when the table declares them), once each;
    /// patterns compile; dates are YYYY-MM-DD or `today`; a shared limit is at least 1.
    static func validate(_ table: TableSpec, path: String, fail: (String, String) -> SyncCoreError) throws {
        var seen = Set<String>()
        let declared = table.columns.map { Set($0.map { $0.name.lowercased() }) }
        for (index, rule) in table.quality.enumerated() {
            let at = "\(path)[\(index)]"
            guard !rule.column.isEmpty, seen.insert(rule.column.lowercased()).inserted else {
                throw fail("\(at).column", "is empty or repeats '\(rule.column)'; give each column one entry")
            }
            if let declared, !declared.contains(rule.column.lowercased()) {
                throw fail("\(at).column", "names '\(rule.column)', which is not among the declared columns")
            }
            if let pattern = rule.pattern, (try? Regex(pattern)) == nil {
                throw fail("\(at).pattern", "is not a regular expression Swift can compile")
            }
            for (name, bound) in [("min", rule.min), ("max", rule.max)] {
                guard let bound else { continue }
                guard rule.format == .date else { throw fail("\(at).\(name)", "needs format: date") }
                guard bound == "today" || Self.isISODate(bound) else { throw fail("\(at).\(name)", "is \"\(bound)\"; use YYYY-MM-DD or today") }
            }
            if let limit = rule.sharedLimit, limit < 1 { throw fail("\(at).shared_limit", "is \(limit); it must be at least 1") }
            if rule.allowed?.isEmpty == true { throw fail("\(at).allowed", "is empty; list the allowed values or remove it") }
            if (rule.birthDateColumn != nil || rule.genderColumn != nil) && rule.format != .residentID {
                throw fail(at, "birth_date_column and gender_column need format: resident_id")
            }
        }
    }

    static func isISODate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return text.count == 10 && parts.count == 3 && parts.map(\.count) == [4, 2, 2] && parts.allSatisfy { $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    /// The entry as a one-line YAML flow mapping (`SyncSchema.yaml()`).
    static func yaml(_ rule: ColumnQuality, quoted: (String) -> String) -> String {
        var fields = ["column: \(quoted(rule.column))"]
        if rule.required { fields.append("required: true") }
        if let format = rule.format { fields.append("format: \(format.rawValue)") }
        if let allowed = rule.allowed { fields.append("allowed: [\(allowed.map(quoted).joined(separator: ", "))]") }
        if let pattern = rule.pattern { fields.append("pattern: \(quoted(pattern))") }
        if let min = rule.min { fields.append("min: \(quoted(min))") }
        if let max = rule.max { fields.append("max: \(quoted(max))") }
        if let limit = rule.sharedLimit { fields.append("shared_limit: \(limit)") }
        if let column = rule.birthDateColumn { fields.append("birth_date_column: \(quoted(column))") }
        if let column = rule.genderColumn { fields.append("gender_column: \(quoted(column))") }
        if let description = rule.description { fields.append("description: \(quoted(description))") }
        if let definition = rule.definition { fields.append("definition: \(quoted(definition))") }
        return "{" + fields.joined(separator: ", ") + "}"
    }
}
