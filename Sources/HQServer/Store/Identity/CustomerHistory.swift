import CustomerIdentity
import Foundation
import SyncCore

/// How a customer is looked up: by mobile, resident ID number or VIN, as typed (normalised
/// before the lookup, so `+86 138-0013-8001` finds `13800138001`).
public struct CustomerQuery: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case mobile
        case idNumber = "id_number"
        case vin
    }

    public var kind: Kind
    public var value: String

    public init(kind: Kind, value: String) {
        self.kind = kind
        self.value = value
    }

    /// The value normalised, or nil when it identifies nobody (invalid, or a placeholder
    /// mobile such as 13800138000): such a lookup would list unrelated customers.
    public var normalized: String? {
        switch kind {
        case .mobile: PersonKeys(mobile: value, idNumber: nil, name: nil, birthDate: nil).mobile
        case .idNumber: PersonKeys(mobile: nil, idNumber: value, name: nil, birthDate: nil).idNumber
        case .vin: VehicleIdentificationNumber.normalize(value)
        }
    }
}

/// One row of a store, as a customer's history shows it.
public struct StoreRecord: Codable, Sendable, Hashable {
    public var table: String
    /// The store responsible for the row (docs/QUALITY.md's rule: routing column, else creator).
    public var dealer: String
    public var key: [TypedValue]
    public var values: [String: TypedValue]
}

/// A link between two of a person's store records, and why.
public struct RecordLink: Codable, Sendable, Hashable {
    public var a: [TypedValue]
    public var b: [TypedValue]
    public var rule: String
    public var confidence: Double
    public var madeBy: String

    enum CodingKeys: String, CodingKey {
        case a, b, rule, confidence
        case madeBy = "made_by"
    }
}

/// One person as HQ knows them (`GET /v1/customers/{id}`): the golden record, every linked
/// store record, their vehicles, and the history tables' rows about them or their vehicles.
public struct CustomerHistory: Codable, Sendable, Hashable {
    public var id: String
    public var responsibleDealer: String?
    public var golden: [String: TypedValue]
    public var records: [StoreRecord]
    public var vehicles: [StoreRecord]
    public var history: [StoreRecord]
    public var links: [RecordLink]

    enum CodingKeys: String, CodingKey {
        case id, golden, records, vehicles, history, links
        case responsibleDealer = "responsible_dealer"
    }

    /// What another store may see at the counter (`identity.counter`): only listed tables
    /// and columns, never the asking store's own rows (it has them), never the links.
    public func forCounter(_ identity: IdentitySpec, asking dealer: String) -> CustomerHistory {
        func visible(_ records: [StoreRecord]) -> [StoreRecord] {
            records.compactMap { record in
                guard record.dealer != dealer, let columns = identity.counter[record.table] else { return nil }
                let allowed = Set(columns.map { $0.lowercased() })
                var copy = record
                copy.values = record.values.filter { allowed.contains($0.key.lowercased()) }
                return copy
            }
        }
        return CustomerHistory(
            id: id, responsibleDealer: responsibleDealer, golden: [:], records: visible(records), vehicles: visible(vehicles),
            history: visible(history), links: [])
    }
}

/// How far linking is behind ingest, and what it has found (`/v1/status`, `hq status`).
public struct IdentityStatus: Codable, Sendable, Hashable {
    /// The feed sequence linking has reached, and the store's latest.
    public var linkedSequence: Int64
    public var latestSequence: Int64
    /// People and vehicle rows merged but not linked yet.
    public var pendingRows: Int
    public var records: Int
    public var people: Int
    /// People known at more than one store.
    public var peopleAtSeveralStores: Int
    /// Links by rule.
    public var links: [String: Int]
    public var splits: Int

    enum CodingKeys: String, CodingKey {
        case records, people, links, splits
        case linkedSequence = "linked_sequence"
        case latestSequence = "latest_sequence"
        case pendingRows = "pending_rows"
        case peopleAtSeveralStores = "people_at_several_stores"
    }
}

/// One recorded lookup of a customer: who asked, when, how, and whom they found.
public struct CustomerLookup: Codable, Sendable, Hashable {
    public var atMillis: Int64
    /// The reader's or dealer's id.
    public var who: String
    /// `reader` (an HQ system or the console), `dealer` (a counter lookup).
    public var kind: String
    /// `id`, `mobile`, `id_number`, `vin`.
    public var queryKind: String
    public var person: String?
    /// Store records returned.
    public var records: Int

    public init(atMillis: Int64, who: String, kind: String, queryKind: String, person: String?, records: Int) {
        self.atMillis = atMillis
        self.who = who
        self.kind = kind
        self.queryKind = queryKind
        self.person = person
        self.records = records
    }

    enum CodingKeys: String, CodingKey {
        case who, kind, person, records
        case atMillis = "at_ms"
        case queryKind = "query_kind"
    }
}

/// A link HQ makes by hand, or a split: two records said to be different people.
public enum LinkChange: String, Sendable, Hashable, Codable { case link, split }
