/// The `key=value key=value` form of dealersync's small request and answer headers
/// (`X-Dealersync-Health`, `-Request`, `-Settings`): split strictly, so a header with an
/// unknown or repeated key, or a part without `=`, is refused whole.
enum HeaderFields {
    /// The fields, or nil when the value is over `maxBytes`, a part is not `key=value`, a key
    /// repeats, or a key is not in `allowed`.
    static func parse(_ value: String, maxBytes: Int, allowed: Set<String>) -> [String: String]? {
        guard value.utf8.count <= maxBytes else { return nil }
        var fields: [String: String] = [:]
        for part in value.split(separator: " ") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, fields[String(pair[0])] == nil, allowed.contains(String(pair[0])) else { return nil }
            fields[String(pair[0])] = String(pair[1])
        }
        return fields
    }
}
