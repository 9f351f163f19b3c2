import Foundation
import Hummingbird
import SyncCore

/// `GET /v1/status` (reader token): per dealer, last seen, last batch, backlog, clock skew,
/// dead letters, conflicts, refusals. `/healthz` and `/metrics` need no token.
public struct StatusController<Store: SyncStore>: Sendable {
    let store: Store
    let schema: SyncSchema
    let metrics: HQMetrics
    /// `retention.feed_days`, shown with the retention status.
    let feedDays: Int
    /// `status.silent_after_seconds`, in milliseconds.
    let silentAfterMillis: Int64

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/status") { request, _ in
            _ = try await Authenticator(store: store).reader(request)
            var dealers = try await store.status(schema: schema)
            let now = Date.nowMillis
            for index in dealers.indices {
                dealers[index].errors = metrics.refusals(of: dealers[index].id)
                dealers[index].silent = dealers[index].isSilent(nowMillis: now, afterMillis: silentAfterMillis)
            }
            let body = FleetStatus(
                feedSequence: try await store.latestSequence(), dealers: dealers, tables: try await store.tablesStatus(),
                retention: try await store.retentionStatus(feedDays: feedDays, schema: schema), identity: try await store.identityStatus())
            return PushController<Store>.json(Array(try JSONEncoder.sorted.encode(body)))
        }
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { _, _ in
            await metrics.refreshQuality { try await store.qualityReport(schema: schema, dealer: nil) }
            if let identity = try? await store.identityStatus() { metrics.recordIdentity(identity) }
            await metrics.refreshStores(silentAfterMillis: silentAfterMillis) { try await store.status(schema: schema) }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.prometheusText())))
        }
    }
}

/// The fleet as `/v1/status` and `dealersync hq status --json` show it.
public struct FleetStatus: Codable, Sendable {
    public var feedSequence: UInt64
    public var dealers: [DealerStatus]
    /// HQ's SQL tables (docs/HQ-TABLES.md), nil when not kept.
    public var tables: TablesStatus?
    /// The feed's retention horizon and the deleted rows waiting for a store's pull.
    public var retention: RetentionStatus?
    /// Customer linking (docs/IDENTITY.md): its lag behind ingest and what it found.
    public var identity: IdentityStatus?

    public init(
        feedSequence: UInt64, dealers: [DealerStatus], tables: TablesStatus? = nil, retention: RetentionStatus? = nil, identity: IdentityStatus? = nil
    ) {
        self.feedSequence = feedSequence
        self.dealers = dealers
        self.tables = tables
        self.retention = retention
        self.identity = identity
    }

    enum CodingKeys: String, CodingKey {
        case dealers, tables, retention, identity
        case feedSequence = "feed_sequence"
    }
}

/// Where HQ's SQL tables are, up to which feed sequence they show the merged rows, and
/// how many rows each holds, and which are still being filled (new, or a column added that
/// rows already carried).
public struct TablesStatus: Codable, Sendable, Hashable {
    public var path: String
    public var feedSequence: UInt64
    public var rows: [String: Int]
    public var filling: [String]

    enum CodingKeys: String, CodingKey {
        case path, rows, filling
        case feedSequence = "feed_sequence"
    }
}
