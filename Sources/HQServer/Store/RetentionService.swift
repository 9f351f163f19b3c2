import Foundation
import GRDB
import Logging
import ServiceLifecycle
import SyncCore

/// Runs a retention pass (`SQLiteSyncStore.applyRetention`) every `retention.interval_seconds`
/// in `hq serve`: the feed keeps `retention.feed_days` of full history, deleted rows go once
/// every store has them. Each step writes in short chunks, so pushes go on meanwhile. Logs
/// counts, never values. Access records older than `retention.access_log_days` go too
/// and dead letters and conflict records older than `retention.personal_data_days`
/// (docs/PRIVACY.md). After erasures, it rewrites HQ's files (`scrubErasures`), also when
/// every retention setting is 0.
struct RetentionService: Service {
    let store: SQLiteSyncStore
    let schema: SyncSchema
    let retention: HQRetention
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            try await Task.sleep(for: .seconds(retention.firstPassDelaySeconds))
            while !Task.isCancelled {
                await pass()
                try await Task.sleep(for: .seconds(retention.intervalSeconds))
            }
        }
    }

    private func pass() async {
        do {
            let scrubbed = try await store.scrubErasures(nowMillis: Date.nowMillis)
            if scrubbed > 0 { logger.notice("HQ's files rewritten after erasures", metadata: ["erasures": "\(scrubbed)"]) }
        } catch {
            logger.error("rewriting HQ's files after erasures failed; the next pass retries", metadata: ["error_type": "\(type(of: error))"])
        }
        if retention.accessLogDays > 0 {
            do {
                let purged = try await store.purgeAccessLog(olderThanMillis: Date.nowMillis - Int64(retention.accessLogDays) * 86_400_000)
                if purged > 0 { logger.info("access records purged", metadata: ["records": "\(purged)", "older_than_days": "\(retention.accessLogDays)"]) }
            } catch {
                logger.error("access record purge failed; the next pass retries", metadata: ["error_type": "\(type(of: error))"])
            }
        }
        if retention.personalDataDays > 0 {
            do {
                let purged = try await store.purgePersonalRecords(olderThanMillis: Date.nowMillis - Int64(retention.personalDataDays) * 86_400_000)
                if purged.deadLetters + purged.conflicts > 0 {
                    logger.info(
                        "old dead letters and conflict records purged",
                        metadata: ["dead_letters": "\(purged.deadLetters)", "conflicts": "\(purged.conflicts)", "older_than_days": "\(retention.personalDataDays)"])
                }
            } catch {
                logger.error("dead letter and conflict purge failed; the next pass retries", metadata: ["error_type": "\(type(of: error))"])
            }
        }
        guard retention.feedDays > 0 else { return }
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
