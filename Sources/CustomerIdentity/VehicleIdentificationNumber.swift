/// Vehicle identification numbers (ISO 3779; in China GB 16735, which makes the check digit
/// in position 9 mandatory). The VIN is what identifies a car across sales, service and the
/// maker's records, so a mistyped one (a check digit that does not match, the letters I, O
/// and Q that VINs never use because they read as 1 and 0) must be caught, not linked.
public enum VehicleIdentificationNumber {
    static let weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    static let letterValues: [Character: Int] = [
        "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8, "J": 1, "K": 2, "L": 3, "M": 4,
        "N": 5, "P": 7, "R": 9, "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
    ]

    /// The value of one VIN character: ASCII digits as themselves, upper-case letters by the
    /// ISO 3779 table; nil for I, O, Q, lower case and anything else.
    static func value(of character: Character) -> Int? {
        if let ascii = character.asciiValue, (0x30...0x39).contains(ascii) { return Int(ascii) - 0x30 }
        return letterValues[character]
    }

    /// The check digit ('0'–'9' or 'X') of a 17-character VIN: the weighted sum of the
    /// transliterated characters modulo 11, 10 written X. Position 9 (the check digit
    /// itself) has weight 0 and is ignored; nil when another character is not a VIN
    /// character or the length is not 17.
    public static func checkDigit(of vin: String) -> Character? {
        let characters = Array(vin)
        guard characters.count == 17 else { return nil }
        var sum = 0
        for (index, character) in characters.enumerated() where index != 8 {
            guard let number = value(of: character) else { return nil }
            sum += number * weights[index]
        }
        let remainder = sum % 11
        return remainder == 10 ? "X" : Character(String(remainder))
    }

    /// The VIN in upper case, or nil. Full-width forms are folded, whitespace and `-`
    /// dropped; 17 characters of A–Z and 0–9 without I, O, Q must remain, with the right
    /// check digit in position 9.
    public static func normalize(_ raw: String) -> String? {
        let characters = Array(HalfWidth.fold(raw).uppercased().filter { !$0.isWhitespace && $0 != "-" })
        guard characters.count == 17, characters.allSatisfy({ value(of: $0) != nil }),
            let check = checkDigit(of: String(characters)), check == characters[8]
        else { return nil }
        return String(characters)
    }
}
