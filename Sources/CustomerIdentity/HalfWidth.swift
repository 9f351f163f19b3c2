/// Full-width forms folded to ASCII. Chinese input methods type digits, letters and
/// punctuation in their full-width forms (１３９, Ａ, －) and the ideographic space, so a
/// value copied from a form or typed in full-width mode looks right but compares unequal.
/// Every normaliser in this module folds first. Done by scalar arithmetic because
/// `String.applyingTransform` is not available on every platform.
public enum HalfWidth {
    /// `text` with U+FF01–U+FF5E mapped to U+0021–U+007E and the ideographic space U+3000
    /// to a plain space; every other character is left as it is.
    public static func fold(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsFolding) else { return text }
        var folded = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0xFF01...0xFF5E: folded.append(Unicode.Scalar(scalar.value - 0xFEE0)!)
            case 0x3000: folded.append(" ")
            default: folded.append(scalar)
            }
        }
        return String(folded)
    }

    static func needsFolding(_ scalar: Unicode.Scalar) -> Bool {
        (0xFF01...0xFF5E).contains(scalar.value) || scalar.value == 0x3000
    }
}
