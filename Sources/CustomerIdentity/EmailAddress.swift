/// Email addresses, checked for the shape mail can be delivered to. Stores type them with
/// capitals, full-width ＠ and dots, and stray spaces; and they type "wang@" or "无" when the
/// customer has none. Domains are compared case-insensitively by mail servers, and
/// providers customers use here (163, qq, 126) treat local parts case-insensitively too, so
/// the whole address is lower-cased.
public enum EmailAddress {
    /// The lower-cased address, or nil. Full-width forms are folded and the ends trimmed;
    /// exactly one `@`; a non-empty local part without whitespace; a domain of two or more
    /// dot-separated labels of ASCII letters, digits and inner hyphens, the last (the
    /// top-level domain) two or more letters or punycode. Internationalised domains pass in
    /// their ASCII (punycode) form only.
    public static func normalize(_ raw: String) -> String? {
        let address = HalfWidth.fold(raw).trimmingWhitespace.lowercased()
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let local = parts[0], domain = parts[1]
        guard !local.isEmpty, !local.contains(where: \.isWhitespace) else { return nil }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy(isLabel), let topLevel = labels.last, isTopLevel(topLevel) else { return nil }
        return address
    }

    /// Two or more letters, or an internationalised top-level domain in punycode (xn--fiqs8s
    /// is .中国).
    static func isTopLevel(_ label: Substring) -> Bool {
        label.hasPrefix("xn--") || (label.utf8.count >= 2 && label.utf8.allSatisfy { (0x61...0x7A).contains($0) })
    }

    /// A DNS label: ASCII letters (already lower case), digits and hyphens, not starting or
    /// ending with a hyphen.
    static func isLabel(_ label: Substring) -> Bool {
        guard let first = label.utf8.first, let last = label.utf8.last, first != 0x2D, last != 0x2D else { return false }
        return label.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }
}
