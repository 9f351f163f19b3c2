import Foundation

/// An `application/x-www-form-urlencoded` body (the console's forms), at most 16 KiB.
struct FormBody {
    let fields: [String: String]

    init(_ bytes: [UInt8]) {
        var fields: [String: String] = [:]
        for pair in String(decoding: bytes, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else { continue }
            fields[name] = parts.count > 1 ? Self.decode(parts[1]) ?? "" : ""
        }
        self.fields = fields
    }

    subscript(_ name: String) -> String? { fields[name] }

    /// `+` is a space, then percent-decoding; nil for malformed escapes.
    static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
