import SyncCore

/// A data subject's request to erase one row everywhere (docs/PRIVACY.md): `dealersync hq
/// erase` or `POST /v1/hq/erasures` (a writer token).
public struct ErasureRequest: Sendable {
    public var spec: TableSpec
    /// The row's key as HQ holds it (an `up` table's key starts with the dealer id).
    public var key: RowKey
    /// The principal or operator who asked (`hq:<user>` from the command line).
    public var requestedBy: String
    /// Free text for the record (a ticket number); never a customer value.
    public var reason: String?
    public var atMillis: Int64

    public init(spec: TableSpec, key: RowKey, requestedBy: String, reason: String?, atMillis: Int64) {
        self.spec = spec
        self.key = key
        self.requestedBy = requestedBy
        self.reason = reason
        self.atMillis = atMillis
    }
}

/// One erasure and where it stands: done once every store that held the row has pulled
/// past its tombstone (and so removed the row and scrubbed its file) and HQ has rewritten
/// its own files.
public struct ErasureStatus: Codable, Hashable, Sendable {
    public struct Holder: Codable, Hashable, Sendable {
        public var dealer: String
        public var confirmed: Bool
    }

    public var id: Int64
    public var table: String
    /// The key's values as JSON (`TypedValue`s), as the feed shows keys.
    public var keyJSON: String
    public var requestedBy: String
    public var reason: String?
    public var requestedAtMillis: Int64
    /// The tombstone's feed sequence: a holder whose pulls passed it has the erasure.
    public var feedSequence: UInt64
    public var holders: [Holder]
    /// When HQ's files were rewritten after the erasure (`scrubErasures`, in the retention
    /// pass); nil until then.
    public var scrubbedAtMillis: Int64?
    /// Whether this call created the erasure (false: the row was erased before).
    public var created: Bool

    enum CodingKeys: String, CodingKey {
        case id, table, reason, holders, created
        case keyJSON = "key_json", requestedBy = "requested_by", requestedAtMillis = "requested_at_ms", feedSequence = "feed_sequence"
        case scrubbedAtMillis = "hq_scrubbed_at_ms"
    }

    /// Every holder confirmed, and HQ's files were rewritten since.
    public var done: Bool { scrubbedAtMillis != nil && holders.allSatisfy(\.confirmed) }
    public var pending: [String] { holders.filter { !$0.confirmed }.map(\.dealer) }
}
