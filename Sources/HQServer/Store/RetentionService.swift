import Foundation
import GRDB
import Logging
import ServiceLifecycle
import SyncCore

/// Runs a retention pass (`SQLiteSyncStore.applyRetention`) every `retention.interval_seconds`
/// in `hq serve`: the feed keeps `retention.feed_days` of full history, deleted rows go once
/// every store has them. Each step writes in short chunks, so pushes go on meanwhile. Logs
/// counts, never values. Does nothing with `feed_days: 0`.
struct RetentionService: Service {
    let store: SQLiteSyncStore
    let schema: SyncSchema
    let retention: HQRetention
    let logger: Logger

    func run() async throws {
        guard retention.feedDays > 0 else {
            // Retention off: stay in the group until it shuts down.
            try? await gracefulShutdown()
            return
        }
        try? await cancelWhenGracefulShutdown {
            try await Task.sleep(for: .seconds(retention.firstPassDelaySeconds))
            while !Task.isCancelled {
                await pass()
                try await Task.sleep(for: .seconds(retention.intervalSeconds))
            }
        }
    }

    private func pass() async {
        let cutoff = Date.nowMillis - Int64(retention.feedDays) * 86_400_000
        let started = ContinuousClock.now
        do {
            let report = try await store.applyRetention(olderThanMillis: cutoff, schema: schema)
            logger.info(
                "retention pass",
                metadata: [
                    "feed_horizon": "\(report.feedHorizon)", "feed_entries_removed": "\(report.feedEntriesRemoved)",
                    "tombstones_purged": "\(report.tombstonesPurged)", "tombstones_waiting": "\(report.tombstonesWaiting)",
                    "revoked_holders_removed": "\(report.revokedHoldersRemoved)", "batches_removed": "\(report.batchesRemoved)", "duration": "\(ContinuousClock.now - started)",
                ])
        } catch is CancellationError {
            return
        } catch let error as DatabaseError {
            logger.error(
                "retention pass failed; the next one retries",
                metadata: ["sqlite": "\(error.resultCode)", "hint": "check the disk holding store.path; nothing half-done stays (each chunk is a transaction)"])
        } catch {
            logger.error("retention pass failed; the next one retries", metadata: ["error_type": "\(type(of: error))"])
        }
    }
}
