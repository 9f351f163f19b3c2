/// Which store's value a person's golden record shows, field by field (docs/IDENTITY.md):
/// the latest valid value; for a field HQ owns, the latest value HQ wrote, if any.
public enum Survivorship {
    public struct Candidate<Value>: Sendable where Value: Sendable {
        public var value: Value
        /// Passes the field's normaliser (or is not empty, for fields without one).
        public var isValid: Bool
        /// When the record was last changed (HLC milliseconds).
        public var changedAtMillis: Int64
        /// The record's last change came from HQ.
        public var byHQ: Bool
        public var dealer: String

        public init(value: Value, isValid: Bool, changedAtMillis: Int64, byHQ: Bool, dealer: String) {
            self.value = value
            self.isValid = isValid
            self.changedAtMillis = changedAtMillis
            self.byHQ = byHQ
            self.dealer = dealer
        }
    }

    /// The surviving value, nil when no candidate is valid. Ties go to the smaller dealer id,
    /// so every HQ process picks the same value.
    public static func pick<Value>(_ candidates: [Candidate<Value>], hqOwned: Bool) -> Value? {
        let valid = candidates.filter(\.isValid)
        let pool = hqOwned && valid.contains(where: \.byHQ) ? valid.filter(\.byHQ) : valid
        return pool.max { ($0.changedAtMillis, $1.dealer) < ($1.changedAtMillis, $0.dealer) }?.value
    }

    /// The one store responsible for the person (a campaign calls each person once, through
    /// it): the store whose record of the person changed last, i.e. the store the customer
    /// dealt with most recently; ties to the smaller dealer id. HQ's own edits do not count.
    public static func responsibleDealer(_ records: [(dealer: String, changedAtMillis: Int64, byHQ: Bool)]) -> String? {
        let stores = records.filter { !$0.byHQ }
        return (stores.isEmpty ? records : stores).max { ($0.changedAtMillis, $1.dealer) < ($1.changedAtMillis, $0.dealer) }?.dealer
    }
}
