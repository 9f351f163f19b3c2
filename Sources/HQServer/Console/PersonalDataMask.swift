import SyncCore

/// Personal data as the console shows it by default (docs/CONSOLE.md): masked, so a page
/// left open or a screenshot leaks no customer. A mobile keeps its prefix and last four
/// digits (139****0318), anything else its first character; revealing is a recorded request.
enum PersonalDataMask {
    static func mask(_ value: SQLValue) -> String {
        switch value {
        case .null: return ""
        case .integer(let number): return mask(String(number))
        case .real: return "***"
        case .text(let text): return mask(text)
        case .blob: return "***"
        }
    }

    static func mask(_ text: String) -> String {
        let characters = Array(text)
        if characters.count == 11, characters.allSatisfy(\.isNumber) {
            return String(characters.prefix(3)) + "****" + String(characters.suffix(4))
        }
        guard let first = characters.first else { return "" }
        return String(first) + String(repeating: "*", count: min(max(characters.count - 1, 2), 8))
    }

    /// A value in full, for revealed pages and columns that are not personal.
    static func plain(_ value: SQLValue) -> String {
        switch value {
        case .null: ""
        case .integer(let number): String(number)
        case .real(let number): String(number)
        case .text(let text): text
        case .blob(let bytes): "<\(bytes.count) bytes>"
        }
    }
}
