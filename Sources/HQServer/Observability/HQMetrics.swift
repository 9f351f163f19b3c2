import Foundation
import Metrics
import Prometheus
import Synchronization

/// HQ's metrics, through swift-metrics into a Prometheus registry owned by this app (not the
/// global `MetricsSystem`, so several apps in one test process do not share counters), plus
/// per-dealer refusal counts for `/v1/status`.
final class HQMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let batches: Metrics.Counter
    let rows: Metrics.Counter
    let deadLetters: Metrics.Counter
    let conflicts: Metrics.Counter
    let bytesIn: Metrics.Counter
    let bytesOut: Metrics.Counter
    /// Push bodies arriving now (upload slots taken), and pushes being decoded and merged
    /// (ingest slots taken): a stalled-upload attack shows as the first at its cap.
    let uploadsReceiving: Metrics.Meter
    let ingestsApplying: Metrics.Meter
    private let refusals = Mutex<[String: Int]>([:])
    /// When the quality gauges were last set: they come from a query over HQ's SQL tables,
    /// run at most once a minute however often Prometheus scrapes.
    private let qualityRefreshed = Mutex<ContinuousClock.Instant?>(nil)
    private let storesRefreshed = Mutex<ContinuousClock.Instant?>(nil)

    init() {
        factory = PrometheusMetricsFactory(registry: registry)
        batches = Metrics.Counter(label: "dealersync_batches_total", factory: factory)
        rows = Metrics.Counter(label: "dealersync_rows_total", factory: factory)
        deadLetters = Metrics.Counter(label: "dealersync_dead_letters_total", factory: factory)
        conflicts = Metrics.Counter(label: "dealersync_conflicts_total", factory: factory)
        bytesIn = Metrics.Counter(label: "dealersync_bytes_in_total", factory: factory)
        bytesOut = Metrics.Counter(label: "dealersync_bytes_out_total", factory: factory)
        uploadsReceiving = Metrics.Meter(label: "dealersync_uploads_receiving", factory: factory)
        ingestsApplying = Metrics.Meter(label: "dealersync_ingests_applying", factory: factory)
    }

    func response(route: String, status: Int, duration: Duration) {
        Metrics.Counter(label: "dealersync_http_responses_total", dimensions: [("route", route), ("status", String(status))], factory: factory)
            .increment()
        Metrics.Timer(label: "dealersync_http_request_duration_seconds", dimensions: [("route", route)], factory: factory)
            .recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    func refused(dealer: String) { refusals.withLock { $0[dealer, default: 0] += 1 } }

    func refusals(of dealer: String) -> Int { refusals.withLock { $0[dealer] ?? 0 } }

    func prometheusText() -> [UInt8] { registry.emitToBuffer() }

    /// Sets `dealersync_quality_score{dealer}` (0…1, docs/QUALITY.md) from `report` when the
    /// last refresh is over a minute old. Dealer ids come from HQ's store, never from a request.
    func refreshQuality(_ report: () async throws -> QualityReport) async {
        let due = qualityRefreshed.withLock { last in
            guard last.map({ ContinuousClock.now - $0 >= .seconds(60) }) ?? true else { return false }
            last = ContinuousClock.now
            return true
        }
        guard due, let report = try? await report() else { return }
        for dealer in report.dealers {
            Metrics.Gauge(label: "dealersync_quality_score", dimensions: [("dealer", dealer.dealer)], factory: factory).record(dealer.score)
        }
    }

    /// `dealersync_identity_lag_rows` (people and vehicle rows merged but not linked yet) and
    /// `dealersync_identity_people`, from `/metrics` (docs/IDENTITY.md).
    func recordIdentity(_ status: IdentityStatus) {
        Metrics.Gauge(label: "dealersync_identity_lag_rows", factory: factory).record(status.pendingRows)
        Metrics.Gauge(label: "dealersync_identity_lag_sequences", factory: factory).record(max(0, status.latestSequence - status.linkedSequence))
        Metrics.Gauge(label: "dealersync_identity_people", factory: factory).record(status.people)
        Metrics.Gauge(label: "dealersync_identity_people_at_several_stores", factory: factory).record(status.peopleAtSeveralStores)
    }

    /// Per dealer, from its agent's last health report and HQ's view (docs/HQ.md): refreshed
    /// at most once a minute, as status reads every dealer.
    func refreshStores(silentAfterMillis: Int64, _ status: () async throws -> [DealerStatus]) async {
        let due = storesRefreshed.withLock { last in
            guard last.map({ ContinuousClock.now - $0 >= .seconds(60) }) ?? true else { return false }
            last = ContinuousClock.now
            return true
        }
        guard due, let dealers = try? await status() else { return }
        let now = Date.nowMillis
        for dealer in dealers where !dealer.revoked {
            let labels = [("dealer", dealer.id)]
            Metrics.Gauge(label: "dealersync_store_silent", dimensions: labels, factory: factory)
                .record(dealer.isSilent(nowMillis: now, afterMillis: silentAfterMillis) ? 1 : 0)
            Metrics.Gauge(label: "dealersync_store_backlog_rows", dimensions: labels, factory: factory).record(dealer.backlog)
            if let seen = dealer.lastSeenMillis {
                Metrics.Gauge(label: "dealersync_store_last_seen_seconds", dimensions: labels, factory: factory).record(Double(now - seen) / 1000)
            }
            if let skew = dealer.clockSkewMillis {
                Metrics.Gauge(label: "dealersync_store_clock_skew_seconds", dimensions: labels, factory: factory).record(Double(skew) / 1000)
            }
            Metrics.Gauge(label: "dealersync_store_capture_off", dimensions: labels, factory: factory).record(dealer.capture?.state == .off ? 1 : 0)
            Metrics.Gauge(label: "dealersync_store_dead_letters", dimensions: labels, factory: factory).record(dealer.deadLetters)
            // A rollout's progress: stores whose running version is below their group's.
            if let running = dealer.schemaRunning {
                Metrics.Gauge(label: "dealersync_store_schema_version", dimensions: labels, factory: factory).record(Double(running))
                Metrics.Gauge(label: "dealersync_store_schema_behind", dimensions: labels, factory: factory)
                    .record(dealer.schemaAssigned.map { running < $0 ? 1 : 0 } ?? 0)
            }
            guard let health = dealer.health else { continue }
            Metrics.Gauge(label: "dealersync_store_pending_changes", dimensions: labels, factory: factory).record(health.pendingChanges)
            Metrics.Gauge(label: "dealersync_store_outbox_rows", dimensions: labels, factory: factory).record(health.outboxRows)
            Metrics.Gauge(label: "dealersync_store_held_rows", dimensions: labels, factory: factory).record(health.heldRows)
            if let free = health.freeDiskMB {
                Metrics.Gauge(label: "dealersync_store_free_disk_bytes", dimensions: labels, factory: factory).record(Double(free) * 1_048_576)
            }
        }
    }
}
