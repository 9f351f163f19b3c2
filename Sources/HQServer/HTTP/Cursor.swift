/// The pull cursor: opaque to clients, who send back what HQ gave them. Today it wraps a
/// feed sequence; the prefix lets the form change without misreading old cursors.
enum Cursor {
    static func encode(_ sequence: UInt64) -> String { "c1.\(sequence)" }

    /// Parses `after=`; absent or empty is the beginning.
    static func decode(_ text: Substring?) throws -> UInt64 {
        guard let text, !text.isEmpty else { return 0 }
        guard text.hasPrefix("c1."), let sequence = UInt64(text.dropFirst(3)) else {
            throw HQError.badRequest("after= is not a cursor issued by this HQ", hint: "pass the X-Dealersync-Cursor of the previous page, or omit after= to start over")
        }
        return sequence
    }
}

/// Small helpers for query parameters.
enum Query {
    static func int(_ text: Substring?, name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw HQError.badRequest("\(name)= must be a whole number from \(range.lowerBound) to \(range.upperBound)", hint: "fix the \(name) parameter")
        }
        return value
    }
}
