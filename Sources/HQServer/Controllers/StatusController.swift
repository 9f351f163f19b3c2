import Foundation
import Hummingbird
import SyncCore

/// `GET /v1/status` (reader token): per dealer, last seen, last batch, backlog, clock skew,
/// dead letters, conflicts, refusals. `/healthz` and `/metrics` need no token.
public struct StatusController<Store: SyncStore>: Sendable {
    let store: Store
    let schema: SyncSchema
    let metrics: HQMetrics

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/status") { request, _ in
            _ = try await Authenticator(store: store).reader(request)
            var dealers = try await store.status(schema: schema)
            for index in dealers.indices { dealers[index].errors = metrics.refusals(of: dealers[index].id) }
            let body = FleetStatus(feedSequence: try await store.latestSequence(), dealers: dealers)
            return PushController<Store>.json(Array(try JSONEncoder.sorted.encode(body)))
        }
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.prometheusText())))
        }
    }
}

/// The fleet as `/v1/status` and `dealersync hq status --json` show it.
public struct FleetStatus: Codable, Sendable {
    public var feedSequence: UInt64
    public var dealers: [DealerStatus]

    public init(feedSequence: UInt64, dealers: [DealerStatus]) {
        self.feedSequence = feedSequence
        self.dealers = dealers
    }

    enum CodingKeys: String, CodingKey {
        case dealers
        case feedSequence = "feed_sequence"
    }
}
