import SyncCore

/// What identifies the person behind one store's customer record, normalised: the values
/// two stores typed differently compare equal, and a value that identifies nobody (an
/// invalid number, a placeholder mobile or name, a placeholder birth date) is nil, so it can
/// never link two records.
public struct PersonKeys: Hashable, Sendable {
    /// 11 digits, valid and not a placeholder (`MobileNumber`).
    public var mobile: String?
    /// 18 characters with a right check character (`ResidentIDNumber`).
    public var idNumber: String?
    /// `PersonName.normalize`d.
    public var name: String?
    /// YYYY-MM-DD in 1901…2100: 1900-01-01 is what a DMS writes for "unknown".
    public var birthDate: String?

    /// Normalises what a store typed. A `hashed` column's value (docs/PRIVACY.md) is kept as
    /// it came: equal hashes are the same value, though HQ cannot check its validity.
    public init(mobile: String?, idNumber: String?, name: String?, birthDate: String?) {
        self.mobile = Self.hashed(mobile) ?? mobile.flatMap(MobileNumber.normalize).flatMap { MobileNumber.isPlaceholder($0) ? nil : $0 }
        self.idNumber = Self.hashed(idNumber) ?? idNumber.flatMap(ResidentIDNumber.normalize)
        self.name = name.flatMap(PersonName.normalize)
        self.birthDate = birthDate.flatMap(CalendarDate.normalize).flatMap { ("1901-01-01"..."2100-12-31").contains($0) ? $0 : nil }
    }

    /// Already normalised values, as stored.
    public init(normalizedMobile: String?, idNumber: String?, name: String?, birthDate: String?) {
        self.mobile = normalizedMobile
        self.idNumber = idNumber
        self.name = name
        self.birthDate = birthDate
    }

    private static func hashed(_ value: String?) -> String? {
        value.flatMap { HashedForm.isHashed(.text($0)) ? $0 : nil }
    }

    /// Whether nothing identifies the record: it links to nobody.
    public var isEmpty: Bool { mobile == nil && idNumber == nil }
}
