import Foundation
import Logging
import ServiceLifecycle
import SyncCapture

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
            var delayMillis = Int64(settings.pollIntervalMillis)
            var waitForChange = true
            // Read before the cycle: a DMS commit that lands while the cycle runs must end
            // the wait at once, not after a whole poll interval.
            let versionBeforeCycle = try? cycle.database.dataVersion()
            do {
                let report = try await cycle.run()
                if lastErrorCode != nil {
                    logger.info("recovered", metadata: ["after_failures": "\(failures)"])
                    lastErrorCode = nil
                }
                failures = 0
                if report.pushedRows + report.appliedRows > 0 {
                    logger.info("synced", metadata: [
                        "pushed_rows": "\(report.pushedRows)", "pulled_rows": "\(report.pulledRows)",
                        "applied_rows": "\(report.appliedRows)", "conflicts": "\(report.conflicts)",
                    ])
                }
                notifier.status("synced: pushed \(report.pushedRows) rows, applied \(report.appliedRows)")
                if report.moreWaiting { delayMillis = 0 }
            } catch {
                let failure = error as? AgentError
                let code = failure.map { "\($0.code)" } ?? "database"
                // One line per state change; repeats of the same failure stay quiet.
                if code != lastErrorCode {
                    logger.error("cycle failed", metadata: ["error": "\(failure?.message ?? "\(error)")", "hint": "\(failure?.hint ?? "")"])
                    lastErrorCode = code
                }
                try? cycle.database.recordAgentError(failure?.message ?? "\(error)", hint: failure?.hint ?? "see the agent's log")
                notifier.status("retrying: \(failure?.message ?? "\(error)")")
                delayMillis = settings.retry.delayMillis(
                    attempt: failures, retryAfterSeconds: failure?.retryAfterSeconds, using: &generator)
                failures += 1
                waitForChange = false
            }
            notifier.watchdog()
            await wait(millis: delayMillis, orUntilDMSCommitsAfter: waitForChange ? versionBeforeCycle : nil)
        }
        notifier.stopping()
        logger.info("agent stopped")
    }

    /// Sleeps up to `millis`, waking early when the DMS has committed since `start` (its
    /// data_version moved); nil waits the whole time.
    private func wait(millis: Int64, orUntilDMSCommitsAfter start: Int64?) async {
        guard millis > 0 else { return }
        let deadline = ContinuousClock.now + .milliseconds(millis)
        while ContinuousClock.now < deadline && !Task.isShuttingDownGracefully && !Task.isCancelled {
            let remaining = (deadline - ContinuousClock.now).components
            let remainingMillis = remaining.seconds * 1000 + remaining.attoseconds / 1_000_000_000_000_000
            let step = min(Int64(settings.changeCheckMillis), max(1, remainingMillis))
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(step)) }
            } catch { return }
            if let start, let now = try? cycle.database.dataVersion(), now != start { return }
        }
    }
}
