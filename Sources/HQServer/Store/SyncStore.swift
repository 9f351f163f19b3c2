import SyncCore

/// Everything HQ keeps: principals and their token hashes, the merged rows, the feed, who
/// holds which row, acknowledged batches, dead letters and conflicts.
///
/// The routes only see this protocol, so a PostgreSQL store can follow without touching
/// them. Implementations must apply a push in one transaction and assign feed sequences
/// inside it, gap-free and in commit order.
public protocol SyncStore: Sendable {
    // MARK: Principals
    func addPrincipal(_ principal: NewPrincipal) async throws
    func revokePrincipal(id: String) async throws
    /// The principal whose token hashes to `tokenSHA256`, revoked or not.
    func principal(tokenSHA256: String) async throws -> Principal?

    // MARK: Ingest
    /// The stored answer to a batch with these exact bytes, if it was acknowledged.
    func acknowledgedReceipt(dealer: NodeID, sha256: String) async throws -> [UInt8]?
    /// Merges the accepted rows, records dead letters and conflicts, and stores the receipt,
    /// in one transaction. A batch id seen before answers `replayed` or `mismatch`.
    func ingest(_ batch: IngestBatch) async throws -> IngestOutcome
    /// A write by HQ itself (node `hq`): its counter and HLC advance in the same transaction.
    func writeAsHQ(_ write: HQWrite) async throws -> HQWriteReceipt

    /// Lets `dealer` hold a row it did not create and is not routed: it receives the row and
    /// may write it from now on. True when the dealer did not hold it yet. `up` rows cannot be
    /// shared (they stay with their store).
    func share(table: String, key: RowKey, with dealer: NodeID) async throws -> Bool

    // MARK: Pulls
    func changes(for dealer: NodeID, schema: SyncSchema, after: UInt64, limit: PageLimit) async throws -> ChangePage
    /// The feed after `after`, with the retention horizon read in the same transaction (see
    /// `FeedRead`).
    func feedPage(after: UInt64, limit: PageLimit) async throws -> FeedRead
    func latestSequence() async throws -> UInt64
    /// Records a dealer's pull: last seen, the cursor it now holds, its clock skew.
    func recordPull(
        dealer: NodeID, cursor: UInt64, atMillis: Int64, clockSkewMillis: Int64?, capture: CaptureReport?, health: StoreHealthReport?
    ) async throws
    /// The highest batch sequence acknowledged from `dealer` (0 before its first batch).
    func acknowledgedSequence(dealer: NodeID) async throws -> UInt64
    /// Makes every row `dealer` holds due for its next pull again, its own writes included;
    /// returns how many.
    func resendAll(to dealer: NodeID) async throws -> Int
    /// HQ's SQL tables, nil when this store keeps none.
    func tablesStatus() async throws -> TablesStatus?
    /// Data quality per dealer, table and column (docs/QUALITY.md); one dealer's when given.
    func qualityReport(schema: SyncSchema, dealer: String?) async throws -> QualityReport
    /// A store's own open quality issues, at most `limit`.
    func qualityIssues(dealer: String, schema: SyncSchema, limit: Int) async throws -> [StoreQualityIssue]
    /// The feed's retention horizon and the deleted rows waiting for a store's pull.
    func retentionStatus(feedDays: Int, schema: SyncSchema) async throws -> RetentionStatus
    /// Stores a dealer's report of its tables' columns and lets HQ's SQL tables learn from it
    /// (`report` has passed `ShapeController`'s checks).
    func recordShape(dealer: NodeID, report: ShapeReport, schema: SyncSchema, atMillis: Int64) async throws -> ShapeOutcome
    /// Shows the rows of tables being filled (created, or a column added that rows carried).
    func fillTables(chunk: Int) async throws -> Int

    // MARK: Status
    func status(schema: SyncSchema) async throws -> [DealerStatus]
    /// One dealer's status, nil for an unknown id.
    func status(schema: SyncSchema, dealer: String) async throws -> DealerStatus?

    // One customer across stores (docs/IDENTITY.md); a store without identity throws
    // `StoreError.notFound` (status: nil).
    /// Links the next `chunk` people and vehicle changes; 0 when caught up.
    func linkIdentities(chunk: Int) async throws -> Int
    func identityStatus() async throws -> IdentityStatus?
    func findCustomers(_ query: CustomerQuery) async throws -> [String]
    func customer(id: String) async throws -> CustomerHistory?
    func recordLookup(_ lookup: CustomerLookup) async throws
    func lookupCount(by who: String, sinceMillis: Int64) async throws -> Int
    func changeLink(_ change: LinkChange, _ a: RowKey, _ b: RowKey, by who: String) async throws -> (String, String)

    // Schema rollout by group and remote requests (docs/ROLLOUT.md).
    /// A published schema version, nil when none has this number.
    func publishedSchema(version: UInt64) async throws -> PublishedSchema?
    /// The dealer's group, the schema version it is to run, and its oldest open request.
    func assignment(dealer: NodeID) async throws -> DealerAssignment
    /// Records a store's progress on its request; `StoreError.notFound` unless it is open.
    func recordRequestProgress(
        dealer: NodeID, id: Int64, state: RemoteRequest.State, done: Int, total: Int, message: String?, atMillis: Int64
    ) async throws
    /// Rows routed to `dealer` after `after`, as its next pulls will send them.
    func backlog(for dealer: NodeID, schema: SyncSchema, after: UInt64) async throws -> Int

    // Access records (docs/PRIVACY.md).
    func recordAccess(_ record: AccessRecord) async throws

    // The web console (docs/CONSOLE.md).
    /// The dealer's last `limit` batches, dead letters and conflicts, and its history since `sinceMillis`.
    func dealerActivity(dealer: String, limit: Int, sinceMillis: Int64) async throws -> DealerActivity
    /// Rows each dealer pushed since `sinceMillis`.
    func rowsPushed(sinceMillis: Int64) async throws -> [String: Int]

    /// Erases one row everywhere (docs/PRIVACY.md); again for an erased row: its status.
    func erase(_ request: ErasureRequest) async throws -> ErasureStatus
    /// Erasures, newest first (`id`: only that one).
    func erasures(id: Int64?, limit: Int) async throws -> [ErasureStatus]
}

public enum PrincipalKind: String, Sendable, Codable, CaseIterable {
    /// A dealership agent: pushes its batches and pulls its changes.
    case dealer
    /// An HQ system reading `/v1/feed` and `/v1/status`.
    case reader
    /// An HQ system writing through `POST /v1/hq/changes` (also reads).
    case writer
}

public struct Principal: Sendable, Hashable {
    public var id: String
    public var name: String?
    public var kind: PrincipalKind
    public var revoked: Bool
}

public struct NewPrincipal: Sendable {
    public var id: String
    public var name: String?
    public var kind: PrincipalKind
    public var tokenSHA256: String
    public var createdAtMillis: Int64

    public init(id: String, name: String?, kind: PrincipalKind, tokenSHA256: String, createdAtMillis: Int64) {
        self.id = id
        self.name = name
        self.kind = kind
        self.tokenSHA256 = tokenSHA256
        self.createdAtMillis = createdAtMillis
    }
}

/// A row that passed validation, with the key HQ stores it under.
public struct AcceptedRow: Sendable {
    public var index: Int
    public var version: RowVersion
    public var spec: TableSpec
}

/// A row refused by validation. `reason` names the table and column, never a value.
public struct DeadLetter: Sendable {
    public var index: Int
    public var table: String
    public var reason: String
    /// The row's canonical bytes, kept in the store (never logged) so it can be replayed.
    public var versionBytes: [UInt8]
}

/// How much one pull or feed page may hold: rows, and bytes of stored versions. A page
/// always has at least one row when any is due (each is at most `limits.max_row_bytes`).
public struct PageLimit: Sendable, Hashable {
    public var rows: Int
    public var bytes: Int

    public init(rows: Int, bytes: Int) {
        self.rows = rows
        self.bytes = bytes
    }
}

public struct IngestBatch: Sendable {
    public var dealer: NodeID
    public var firstSequence: UInt64
    public var lastSequence: UInt64
    public var sha256: String
    public var compressedBytes: Int
    public var rows: [AcceptedRow]
    public var deadLetters: [DeadLetter]
    public var receivedAtMillis: Int64
    public var clockSkewMillis: Int64?
    /// A merged row larger than this is dead-lettered instead of stored.
    public var maxRowBytes: Int
}

public enum IngestOutcome: Sendable {
    /// Applied now; the receipt (its JSON bytes, stored for replays, and its fields).
    case applied(receipt: [UInt8], summary: PushReceipt)
    /// The same bytes were acknowledged before: the same receipt.
    case replayed(receipt: [UInt8])
    /// The batch id was acknowledged with other bytes.
    case mismatch
}

/// What a push answers, stored per batch and replayed byte for byte.
public struct PushReceipt: Codable, Sendable, Hashable {
    public var batch: String
    public var rows: Int
    public var applied: Int
    public var unchanged: Int
    public var deadLetters: Int
    public var conflicts: Int
    /// The feed sequence after this batch was applied.
    public var feedSequence: UInt64
    /// Rows HQ did not take as sent (the first `maxNotices`), for the store's `status`.
    public var notices: [RowNotice]?

    /// A receipt lists at most this many rows; `dead_letters` still counts them all.
    public static let maxNotices = 100

    enum CodingKeys: String, CodingKey {
        case batch, rows, applied, unchanged, conflicts, notices
        case deadLetters = "dead_letters"
        case feedSequence = "feed_sequence"
    }
}

/// One pushed row that HQ did not take as sent: dead-lettered, or applied with some columns
/// keeping HQ's value. The reason names the row index, table and columns, never a value.
public struct RowNotice: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable {
        case refused
        case overruled
    }

    public var row: Int
    public var table: String
    public var kind: Kind
    public var columns: [String]?
    public var reason: String

    public init(row: Int, table: String, kind: Kind, columns: [String]? = nil, reason: String) {
        self.row = row
        self.table = table
        self.kind = kind
        self.columns = columns
        self.reason = reason
    }
}

public struct HQWrite: Sendable {
    public var spec: TableSpec
    public var key: RowKey
    public var values: [String: SQLValue]
    public var delete: Bool
    public var atMillis: Int64
    public var maxRowBytes: Int
}

public struct HQWriteReceipt: Codable, Sendable {
    public var feedSequence: UInt64
    public var counter: UInt64
    public var conflicts: Int

    enum CodingKeys: String, CodingKey {
        case counter, conflicts
        case feedSequence = "feed_sequence"
    }
}

/// One page of the rows routed to a dealer.
public struct ChangePage: Sendable {
    /// (feed sequence, current merged version), in feed order.
    public var rows: [(sequence: UInt64, version: RowVersion)]
    /// Where the next pull starts.
    public var nextCursor: UInt64
    /// Indexes into `rows` of erasure tombstones (docs/PRIVACY.md): the store drops its own
    /// copies of those rows' values and scrubs its file.
    public var erased: [Int] = []

    public init(rows: [(sequence: UInt64, version: RowVersion)], nextCursor: UInt64, erased: [Int] = []) {
        self.rows = rows
        self.nextCursor = nextCursor
        self.erased = erased
    }
}

/// One merged change, as the feed serves it: the version right after the change.
public struct FeedEntry: Sendable {
    public var sequence: UInt64
    public var source: String
    public var atMillis: Int64
    public var version: RowVersion
}

/// One page of the feed and the retention horizon as of the same read: at and below the
/// horizon the feed keeps only each row's current version (tombstones until purged), so a
/// reader whose cursor is below it may have missed changes (docs/HQ.md, "Retention").
public struct FeedRead: Sendable {
    public var entries: [FeedEntry]
    /// 0: never compacted.
    public var horizon: UInt64
}

public struct DealerStatus: Codable, Sendable, Hashable {
    public var id: String
    public var name: String?
    public var revoked: Bool
    public var lastSeenMillis: Int64?
    public var lastBatch: String?
    public var batches: Int
    public var pulledSequence: UInt64
    /// Rows routed to the dealer after its last pull.
    public var backlog: Int
    /// The dealer's clock minus HQ's, from the last `X-Dealersync-Clock` header.
    public var clockSkewMillis: Int64?
    public var deadLetters: Int
    public var conflicts: Int
    /// Requests refused since this HQ process started (not stored; 0 in the offline CLI).
    public var errors: Int
    /// The store's capture as it reported it on its last pull (nil: an agent too old to say).
    public var capture: CaptureReport?
    /// The store's health as its agent reported it on its last pull (nil: an agent too old to say).
    public var health: StoreHealthReport? = nil
    public var healthAtMillis: Int64? = nil
    /// The dealer's group (docs/ROLLOUT.md).
    public var group: String = DealerGroup.defaultName
    /// The schema version its agent last reported running; nil: not reported yet.
    public var schemaRunning: UInt64? = nil
    /// The version its group is assigned; nil: HQ's own schema.
    public var schemaAssigned: UInt64? = nil
    /// Not seen for longer than `status.silent_after_seconds`; set by whoever shows the status.
    public var silent = false

    /// Whether the dealer was last seen longer ago than `afterMillis` (never seen: not silent,
    /// it is new).
    public func isSilent(nowMillis: Int64, afterMillis: Int64) -> Bool {
        !revoked && lastSeenMillis.map { nowMillis - $0 > afterMillis } == true
    }

    enum CodingKeys: String, CodingKey {
        case id, name, revoked, batches, backlog, conflicts, errors, capture, health, silent, group
        case healthAtMillis = "health_at_ms"
        case schemaRunning = "schema_running"
        case schemaAssigned = "schema_assigned"
        case lastSeenMillis = "last_seen_ms"
        case lastBatch = "last_batch"
        case pulledSequence = "pulled_sequence"
        case clockSkewMillis = "clock_skew_ms"
        case deadLetters = "dead_letters"
    }
}

/// A store problem the caller can act on.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case exists, notFound, corrupt, tooLarge }
    public var kind: Kind
    public var message: String
    public var hint: String
    public var description: String { "\(message). Try: \(hint)" }
}

extension SyncStore {
    /// A pull from an agent that sends no health report.
    public func recordPull(dealer: NodeID, cursor: UInt64, atMillis: Int64, clockSkewMillis: Int64?, capture: CaptureReport?) async throws {
        try await recordPull(dealer: dealer, cursor: cursor, atMillis: atMillis, clockSkewMillis: clockSkewMillis, capture: capture, health: nil)
    }
}
