import CustomerIdentity

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

    /// The check digit ('0'–'9' or 'X') for a 17-character VIN, ignoring position 9
    /// (`CustomerIdentity.VehicleIdentificationNumber`, which data quality checks with).
    public static func checkDigit(of vin: String) -> Character? {
        VehicleIdentificationNumber.checkDigit(of: vin)
    }

    /// Whether `vin` is a valid VIN exactly as written (upper case, no separators).
    public static func isValid(_ vin: String) -> Bool {
        VehicleIdentificationNumber.normalize(vin) == vin
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
