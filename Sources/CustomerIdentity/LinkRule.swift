/// Why two store records are one person (docs/IDENTITY.md), strongest first. Only
/// deterministic rules: each compares normalised values and never guesses from similarity
/// beyond one mistyped character of a name.
public enum LinkRule: String, Hashable, Sendable, CaseIterable, Codable {
    /// The same valid resident ID number: issued to one person for life.
    case idNumber = "id_number"
    /// The same valid mobile, not shared by other names, with a compatible name.
    case mobileAndName = "mobile_name"
    /// Owners of the same vehicle (VIN) with a compatible name: the car was sold at one store
    /// and serviced at another.
    case vehicleOwner = "vehicle_owner"
    /// Made by hand at HQ (`dealersync hq identity link`).
    case manual

    /// How sure the rule is, 0…1, for a link between names that are equal; a mistyped
    /// character lowers it (`LinkDecision`).
    public var confidence: Double {
        switch self {
        case .idNumber: 0.99
        case .mobileAndName: 0.95
        case .vehicleOwner: 0.9
        case .manual: 1
        }
    }
}

/// A link the rules make between two records.
public struct LinkDecision: Hashable, Sendable {
    public var rule: LinkRule
    public var confidence: Double

    public init(rule: LinkRule, confidence: Double) {
        self.rule = rule
        self.confidence = confidence
    }
}

/// The link rules over two records' keys.
public enum LinkRules {
    /// How two records are linked, or nil. `sharedMobile`: the mobile both carry is held by
    /// too many names to identify anyone; `sameVehicle`: both owned one VIN.
    public static func decide(_ a: PersonKeys, _ b: PersonKeys, sharedMobile: Bool = false, sameVehicle: Bool = false) -> LinkDecision? {
        if let id = a.idNumber, id == b.idNumber { return LinkDecision(rule: .idNumber, confidence: LinkRule.idNumber.confidence) }
        // Different ID numbers, or birth dates, are different people whatever else matches
        // (a couple sharing a phone, a son who took over his father's car).
        if conflicts(a, b) { return nil }
        guard let names = nameMatch(a.name, b.name) else { return nil }
        if let mobile = a.mobile, mobile == b.mobile, !sharedMobile {
            return LinkDecision(rule: .mobileAndName, confidence: LinkRule.mobileAndName.confidence * names)
        }
        if sameVehicle { return LinkDecision(rule: .vehicleOwner, confidence: LinkRule.vehicleOwner.confidence * names) }
        return nil
    }

    /// Whether the two carry different ID numbers or different birth dates (an ID number
    /// carries the birth date too).
    public static func conflicts(_ a: PersonKeys, _ b: PersonKeys) -> Bool {
        if let x = a.idNumber, let y = b.idNumber, x != y { return true }
        if let x = birthDate(a), let y = birthDate(b), x != y { return true }
        return false
    }

    static func birthDate(_ keys: PersonKeys) -> String? {
        keys.idNumber.flatMap(ResidentIDNumber.birthDate(of:)) ?? keys.birthDate
    }

    /// 1 for equal names; 0.95 for names of three or more characters with the same surname
    /// (first character) that differ in one other character (王晓明, 王小明); else nil. Two
    /// characters differing in one is a different person far too often (王伟, 王芳).
    public static func nameMatch(_ a: String?, _ b: String?) -> Double? {
        guard let a, let b else { return nil }
        if a == b { return 1 }
        let x = Array(a), y = Array(b)
        guard x.count == y.count, x.count >= 3, x[0] == y[0], x.allSatisfy(PersonName.joinsWithoutSpace) else { return nil }
        return zip(x, y).filter { $0 != $1 }.count == 1 ? 0.95 : nil
    }
}
