import Foundation

/// Parses an HTTP `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
public enum RetryAfter {
    /// Seconds to wait from `now`, or nil when the value is neither form. A date in the past
    /// is 0; a date part-way through a second rounds up, so the wait is never too short.
    public static func seconds(from value: String, now: Date = Date()) -> Int? {
        let text = value.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        if text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            // Absurdly long digit strings saturate rather than fail.
            return Int(text) ?? Int.max
        }
        guard let date = httpDate(text) else { return nil }
        let interval = date.timeIntervalSince(now)
        guard interval > 0 else { return 0 }
        return interval >= Double(Int32.max) ? Int(Int32.max) : Int(interval.rounded(.up))
    }

    /// IMF-fixdate, and the obsolete RFC 850 and asctime forms that recipients must accept.
    static func httpDate(_ text: String) -> Date? {
        for format in ["EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", "EEE MMM d HH:mm:ss yyyy"] {
            // A formatter per call: DateFormatter is not thread-safe and this runs rarely.
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            // asctime pads single-digit days with a second space.
            let candidate = format.hasPrefix("EEE MMM") ? text.replacingOccurrences(of: "  ", with: " ") : text
            if let date = formatter.date(from: candidate) { return date }
        }
        return nil
    }
}
