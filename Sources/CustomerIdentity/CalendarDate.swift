/// Calendar dates as stores type them (1985-02-28, 1985/2/28, 19850228, 1985.02.28),
/// reduced to YYYY-MM-DD, so a date can be compared with another field (a resident ID's
/// birth date) or a bound whatever spelling the DMS kept. Only dates that exist pass:
/// placeholders such as 2099-13-45 and 0000-00-00 are exactly what data quality must catch.
public enum CalendarDate {
    /// YYYY-MM-DD for a real date (Gregorian, leap years included) written as YYYY-MM-DD,
    /// YYYY/MM/DD, YYYY.MM.DD (month and day may have one digit) or YYYYMMDD, after folding
    /// full-width forms and trimming whitespace; nil otherwise (also for a date with a time).
    public static func normalize(_ raw: String) -> String? {
        let text = HalfWidth.fold(raw).trimmingWhitespace
        let parts: [Substring]
        if let separator = text.first(where: { $0 == "-" || $0 == "/" || $0 == "." }) {
            parts = text.split(separator: separator, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].count == 4, (1...2).contains(parts[1].count), (1...2).contains(parts[2].count)
            else { return nil }
        } else {
            guard text.count == 8 else { return nil }
            let characters = Array(text)
            parts = [Substring(String(characters[0..<4])), Substring(String(characters[4..<6])), Substring(String(characters[6..<8]))]
        }
        guard let year = asciiNumber(parts[0]), let month = asciiNumber(parts[1]), let day = asciiNumber(parts[2]),
            isReal(year: year, month: month, day: day)
        else { return nil }
        return format(year: year, month: month, day: day)
    }

    /// Whether `low <= date <= high`. All three are YYYY-MM-DD (as `normalize` returns), so
    /// text order is date order; bounds need not be real dates ("0000-00-00", "9999-99-99"
    /// work as open ends).
    public static func isBetween(_ date: String, _ low: String, _ high: String) -> Bool {
        low <= date && date <= high
    }

    /// Whether the day exists in the proleptic Gregorian calendar (year 1 onwards).
    static func isReal(year: Int, month: Int, day: Int) -> Bool {
        guard year >= 1, (1...12).contains(month), day >= 1 else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }

    static func format(year: Int, month: Int, day: Int) -> String {
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))"
    }

    /// The value of a non-empty run of ASCII digits; nil for anything else (`Int("+1")` would
    /// accept a sign).
    static func asciiNumber(_ text: some StringProtocol) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(text)
    }
}
