import CustomerIdentity

/// Mainland resident identity numbers (GB 11643-1999), as stores type them into a customer
/// record: 6-digit region code, birth date YYYYMMDD, 3-digit sequence (odd for men, even for
/// women), and an ISO 7064 MOD 11-2 check character (0-9 or X).
public enum ResidentID {
    /// Real county-level region codes of the cities the generator places customers in.
    static let regions = ["310115", "310104", "110105", "110108", "440106", "440305", "320102", "330106", "510107", "420106"]

    /// The check character of the first 17 digits (`CustomerIdentity.ResidentIDNumber`,
    /// which data quality checks with).
    public static func checkCharacter(of first17: String) -> Character? {
        ResidentIDNumber.checkCharacter(of: first17)
    }

    /// Whether `number` is a valid 18-character number exactly as written: right check
    /// character, a real birth date, upper-case X.
    public static func isValid(_ number: String) -> Bool {
        ResidentIDNumber.normalize(number) == number
    }

    /// The birth date the number carries, as YYYY-MM-DD.
    public static func birthDate(of number: String) -> String? {
        isValid(number) ? ResidentIDNumber.birthDate(of: number) : nil
    }
}

extension DealershipGenerator.Customer {
    /// The customer's identity number, consistent with their birth date and gender; nil when
    /// the birth date is missing or one of the impossible dates dirty rows carry. Derived
    /// from the row itself (not drawn from the seeded stream), so adding it changed no
    /// other generated value.
    public var residentID: String? {
        guard let birthDate, birthDate.count == 10 else { return nil }
        let parts = birthDate.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1901...2100).contains(parts[0]), (1...12).contains(parts[1]), (1...31).contains(parts[2])
        else { return nil }
        // FNV-1a of the key: a stable choice of region and sequence per customer.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let region = ResidentID.regions[Int(hash % UInt64(ResidentID.regions.count))]
        var sequence = Int((hash >> 16) % 500) * 2  // even: women
        if gender == "男" { sequence += 1 }  // odd: men
        let padded = String(repeating: "0", count: 3 - String(sequence).count) + String(sequence)
        let first17 = region + birthDate.filter { $0 != "-" } + padded
        return first17 + String(ResidentID.checkCharacter(of: first17)!)
    }
}
