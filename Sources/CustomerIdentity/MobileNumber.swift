/// Mainland China mobile numbers: 11 digits, 1 then 3–9 (the carriers' 13x–19x ranges).
/// Stores type them with a country code, spaces, dashes and full-width digits, so two
/// spellings of one customer's number only match once normalised; and they type a made-up
/// number when the customer will not give theirs, which looks valid but identifies nobody.
public enum MobileNumber {
    /// The 11 digits, or nil when `raw` is not a mainland mobile number. Full-width forms are
    /// folded; whitespace, `-`, `.`, `(` and `)` dropped; a leading `+86` or `0086` (or `86`
    /// when 13 digits remain) stripped. The result matches `1[3-9][0-9]{9}`.
    public static func normalize(_ raw: String) -> String? {
        var text = Substring(HalfWidth.fold(raw).filter { !$0.isWhitespace && !separators.contains($0) })
        if text.hasPrefix("+86") {
            text = text.dropFirst(3)
        } else if text.hasPrefix("0086") {
            text = text.dropFirst(4)
        } else if text.hasPrefix("86"), text.utf8.count == 13 {
            text = text.dropFirst(2)
        }
        let bytes = Array(text.utf8)
        guard bytes.count == 11, bytes.allSatisfy({ (0x30...0x39).contains($0) }),  // ASCII digits only
            bytes[0] == 0x31, (0x33...0x39).contains(bytes[1])  // 1, then 3–9
        else { return nil }
        return String(text)
    }

    static let separators: Set<Character> = ["-", ".", "(", ")"]

    /// Numbers seen typed at the counter as "any number" when a customer gives none: the
    /// China Mobile service number 13800138000 and easy-to-type repeats. Many customers then
    /// share one number, which wrongly merges them in identity linking.
    public static let placeholders: Set<String> = [
        "13800138000", "13888888888", "13900000000", "13000000000", "13111111111", "13333333333",
        "18888888888", "13912345678", "13800000000", "15000000000", "18000000000", "13999999999",
    ]

    /// Whether a normalised number is made up: a known placeholder, eight or more identical
    /// trailing digits (13911111111), or the eight digits after the 3-digit prefix counting
    /// up or down by one (13612345678, 13687654321). Real numbers are assigned in blocks that
    /// never look like this, so false positives are not a practical concern.
    public static func isPlaceholder(_ normalized: String) -> Bool {
        if placeholders.contains(normalized) { return true }
        let digits = normalized.utf8.map { Int($0) - 0x30 }
        guard digits.count == 11, digits.allSatisfy({ (0...9).contains($0) }) else { return false }
        let last = digits[10]
        if digits.suffix(8).allSatisfy({ $0 == last }) { return true }
        let tail = Array(digits.suffix(8))
        let steps = zip(tail, tail.dropFirst()).map { $1 - $0 }
        return steps.allSatisfy { $0 == 1 } || steps.allSatisfy { $0 == -1 }
    }
}
