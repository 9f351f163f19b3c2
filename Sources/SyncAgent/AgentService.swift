import Foundation
import Logging
import ServiceLifecycle
import SyncCapture
import SystemdNotify

/// The store daemon as a swift-service-lifecycle `Service`: runs `SyncCycle` over and over,
/// waits for a DMS commit (`PRAGMA data_version`) or the poll interval between cycles,
/// backs off with full jitter after failures (honouring HQ's Retry-After), and talks to
/// systemd (READY, WATCHDOG, STATUS, STOPPING). Returns on graceful shutdown; a cycle in
/// flight is finished first, so nothing half-done is left behind (and if it were, every
/// step is transactional).
public struct AgentService: Service {
    let cycle: SyncCycle
    let settings: AgentSettings
    let logger: Logger
    let notifier: SystemdNotifier

    public init(cycle: SyncCycle, settings: AgentSettings, logger: Logger, notifier: SystemdNotifier = SystemdNotifier()) {
        self.cycle = cycle
        self.settings = settings
        self.logger = logger
        self.notifier = notifier
    }

    public func run() async throws {
        notifier.ready()
        logger.info("agent started", metadata: ["node": "\(cycle.database.node)", "hq": "\(settings.hqURL)"])
        var failures = 0
        var generator = SystemRandomNumberGenerator()
        var lastErrorCode: String?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var delayMillis = Int64(cycle.pollIntervalMillis)
            var waitForChange = true
            // Read before the cycle: a DMS commit that lands while the cycle runs (after it
            // stamped) must wake the next wait at once, not after the poll interval.
            let dataVersionBeforeCycle = try? cycle.database.dataVersion()
            do {
                let report = try await cycle.run()
                cycle.recordOutcome(failureCode: nil)
                if lastErrorCode != nil {
                    logger.info("recovered", metadata: ["after_failures": "\(failures)"])
                    lastErrorCode = nil
                }
                failures = 0
                if report.pushedRows + report.appliedRows + report.heldRows > 0 {
                    logger.info("synced", metadata: [
                        "pushed_rows": "\(report.pushedRows)", "pulled_rows": "\(report.pulledRows)",
                        "applied_rows": "\(report.appliedRows)", "conflicts": "\(report.conflicts)",
                        "held_rows": "\(report.heldRows)",
                    ])
                }
                notifier.status("synced: pushed \(report.pushedRows) rows, applied \(report.appliedRows)")
                if report.moreWaiting { delayMillis = 0 }
            } catch {
                let failure = error as? AgentError
                let storage = CaptureError.storage(error, databasePath: cycle.database.settings.databasePath)
                // A capture error of its own (a schema HQ assigns that cannot be adopted, a
                // table gone) keeps its message and hint rather than becoming "database".
                let capture = storage ?? (error as? CaptureError)
                let code = failure.map { "\($0.code)" } ?? storage.map { "storage \($0.message)" } ?? capture.map { "\($0.code)" } ?? "database"
                let message = failure?.message ?? capture?.message ?? "\(error)"
                let hint = failure?.hint ?? capture?.hint ?? "see the agent's log"
                // One line per state change; repeats of the same failure stay quiet.
                if code != lastErrorCode {
                    logger.error("cycle failed", metadata: ["error": "\(message)", "hint": "\(hint)"])
                    lastErrorCode = code
                }
                try? cycle.database.recordAgentError(message, hint: hint)
                // To HQ, a code only: messages may name a table or a path.
                cycle.recordOutcome(failureCode: failure.map { "\($0.code)" } ?? (storage != nil ? "storage" : capture.map { "\($0.code)" } ?? "database"))
                notifier.status("retrying: \(message)")
                delayMillis = settings.retry.delayMillis(
                    attempt: failures, retryAfterSeconds: failure?.retryAfterSeconds, using: &generator)
                failures += 1
                waitForChange = false
            }
            notifier.watchdog()
            await wait(millis: delayMillis, orUntilDataVersionMovesFrom: waitForChange ? dataVersionBeforeCycle : nil)
        }
        notifier.stopping()
        logger.info("agent stopped")
    }

    /// Sleeps up to `millis`, waking early once the DMS has committed since `start` was read
    /// (`PRAGMA data_version` moves only for other connections' commits, not the agent's own).
    ///
    /// Pings the watchdog meanwhile: a retry delay (up to `retry.max_delay_millis`, minutes)
    /// is longer than `WatchdogSec`, and an agent waiting out an HQ outage is alive, not hung.
    private func wait(millis: Int64, orUntilDataVersionMovesFrom start: Int64?) async {
        guard millis > 0 else { return }
        let deadline = ContinuousClock.now + .milliseconds(millis)
        var lastPing = ContinuousClock.now
        while ContinuousClock.now < deadline && !Task.isShuttingDownGracefully && !Task.isCancelled {
            let untilCheck = min(Duration.milliseconds(settings.changeCheckMillis), deadline - ContinuousClock.now)
            let step = max(min(untilCheck, notifier.watchdogInterval ?? untilCheck), .milliseconds(1))
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: step) }
            } catch { return }
            if let interval = notifier.watchdogInterval, ContinuousClock.now - lastPing >= interval {
                notifier.watchdog()
                lastPing = ContinuousClock.now
            }
            if let start, let now = try? cycle.database.dataVersion(), now != start { return }
        }
    }
}
