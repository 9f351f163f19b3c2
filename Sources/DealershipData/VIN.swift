/// Vehicle identification numbers (ISO 3779) with the check digit in position 9, as on
/// Chinese-market vehicles.
public enum VIN {
    /// World manufacturer identifiers of makers selling in China.
    static let makers = [
        "LSV",  // SAIC Volkswagen
        "LFV",  // FAW-Volkswagen
        "LBV",  // BMW Brilliance
        "LSG",  // SAIC-GM
        "LGB",  // Dongfeng Nissan
        "LVS",  // Changan Ford
        "LHG",  // GAC Honda
        "LGX",  // BYD
        "LRW",  // Tesla Shanghai
        "LFM",  // FAW Toyota
    ]
    static let allowed = Array("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")
    static let weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]

    static func transliterate(_ character: Character) -> Int? {
        if let digit = character.wholeNumberValue { return digit }
        let table: [Character: Int] = [
            "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8, "J": 1, "K": 2, "L": 3, "M": 4,
            "N": 5, "P": 7, "R": 9, "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
        ]
        return table[character]
    }

    /// The check digit ('0'–'9' or 'X') for a 17-character VIN, ignoring position 9.
    public static func checkDigit(of vin: String) -> Character? {
        let characters = Array(vin)
        guard characters.count == 17 else { return nil }
        var sum = 0
        for (index, character) in characters.enumerated() {
            guard let value = transliterate(character) else { return nil }
            sum += value * weights[index]
        }
        let remainder = sum % 11
        return remainder == 10 ? "X" : Character(String(remainder))
    }

    public static func isValid(_ vin: String) -> Bool {
        let characters = Array(vin)
        return characters.count == 17 && checkDigit(of: vin) == characters[8]
    }

    /// A random valid VIN of a Chinese-market maker.
    public static func random(using generator: inout SeededGenerator) -> String {
        var characters = Array(makers.randomElement(using: &generator)!)
        for _ in 0..<14 { characters.append(allowed.randomElement(using: &generator)!) }
        characters[8] = "0"
        characters[9] = Array("LMNPRSTV")[Int.random(in: 0..<8, using: &generator)]  // model year 2020–2027
        characters[8] = checkDigit(of: String(characters))!
        return String(characters)
    }
}
