/// Mainland resident identity numbers (GB 11643-1999): 6-digit region code, birth date
/// YYYYMMDD, 3-digit sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check
/// character (0–9 or X). The number is the strongest key for one person, but only once
/// typos are caught (the check character), the lower-case x and full-width digits are
/// evened out, and old 15-digit numbers (issued before 1999, born 19xx, no check
/// character) are upgraded to the 18 characters the same person carries today.
public enum ResidentIDNumber {
    static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checkCharacters = Array("10X98765432")

    /// The check character of 17 ASCII digits: the weighted sum modulo 11 indexes
    /// "10X98765432". Nil for anything but 17 ASCII digits.
    public static func checkCharacter(of first17: String) -> Character? {
        let digits = first17.unicodeScalars.map { Int($0.value) - 0x30 }
        guard digits.count == 17, digits.allSatisfy({ (0...9).contains($0) }) else { return nil }
        let sum = zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
        return checkCharacters[sum % 11]
    }

    /// The 18-character number, or nil. Full-width forms are folded, whitespace dropped and
    /// `x` upper-cased; 18 characters must carry the right check character and a real birth
    /// date in 1900…2100; 15 digits with a real birth date are upgraded (19 inserted before
    /// the year, the check character appended).
    public static func normalize(_ raw: String) -> String? {
        let text: [Character] = HalfWidth.fold(raw).filter { !$0.isWhitespace }.map { $0 == "x" ? Character("X") : $0 }
        switch text.count {
        case 18:
            let first17 = String(text.prefix(17))
            guard let check = checkCharacter(of: first17), check == text[17], hasRealBirthDate(first17) else { return nil }
            return first17 + String(check)
        case 15:
            let old = String(text)
            guard CalendarDate.asciiNumber(old) != nil else { return nil }
            let first17 = String(old.prefix(6)) + "19" + String(old.dropFirst(6))
            guard let check = checkCharacter(of: first17), hasRealBirthDate(first17) else { return nil }
            return first17 + String(check)
        default:
            return nil
        }
    }

    /// The birth date the number carries, as YYYY-MM-DD; nil when `normalize` refuses it.
    public static func birthDate(of normalized: String) -> String? {
        guard let number = normalize(normalized) else { return nil }
        let characters = Array(number)
        return "\(String(characters[6..<10]))-\(String(characters[10..<12]))-\(String(characters[12..<14]))"
    }

    public enum Gender: String, Sendable {
        case male, female
    }

    /// The gender the number carries: the 17th character (last of the sequence) is odd for
    /// men, even for women. Nil when `normalize` refuses the number.
    public static func gender(of normalized: String) -> Gender? {
        guard let number = normalize(normalized), let digit = Array(number)[16].wholeNumberValue else { return nil }
        return digit % 2 == 1 ? .male : .female
    }

    /// Whether characters 7–14 of 17 ASCII digits are a date that exists, in 1900…2100.
    static func hasRealBirthDate(_ first17: String) -> Bool {
        let characters = Array(first17)
        guard characters.count == 17, let year = CalendarDate.asciiNumber(String(characters[6..<10])),
            let month = CalendarDate.asciiNumber(String(characters[10..<12])),
            let day = CalendarDate.asciiNumber(String(characters[12..<14]))
        else { return false }
        return (1900...2100).contains(year) && CalendarDate.isReal(year: year, month: month, day: day)
    }
}
