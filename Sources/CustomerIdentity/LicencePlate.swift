/// Mainland licence plates: a province character, the issuing city's letter, then five
/// characters (ordinary plates) or six (new-energy plates, green). A plate identifies the
/// car a customer brings to service when no VIN was taken, and stores write it as 沪A·12345,
/// 沪A 12345, 沪a12345 or with full-width letters; the normalised form drops the separator.
public enum LicencePlate {
    /// Province characters (abbreviations of the 31 provinces) and 使/领 of embassy and
    /// consulate plates.
    static let provinces: Set<Character> = Set("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领")

    /// Separators typed between the city letter and the serial: middle-dot variants and `.`.
    static let separators: Set<Character> = ["-", "·", "•", "・", "‧", "･", "."]

    /// The plate without separators and in upper case (沪A12345, 粤BD12345), or nil.
    /// Full-width forms are folded, whitespace, `-` and `·` dropped; a province character,
    /// a letter A–Z, then 5 or 6 characters of A–Z and 0–9 without I and O (which plates
    /// never use, as they read as 1 and 0) must remain.
    public static func normalize(_ raw: String) -> String? {
        let characters = Array(HalfWidth.fold(raw).uppercased().filter { !$0.isWhitespace && !separators.contains($0) })
        guard characters.count == 7 || characters.count == 8, provinces.contains(characters[0]),
            let city = characters[1].asciiValue, (0x41...0x5A).contains(city),
            characters.dropFirst(2).allSatisfy(isSerialCharacter)
        else { return nil }
        return String(characters)
    }

    static func isSerialCharacter(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue, character != "I", character != "O" else { return false }
        return (0x41...0x5A).contains(ascii) || (0x30...0x39).contains(ascii)
    }
}
