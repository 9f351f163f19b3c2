import Logging
import ServiceLifecycle
import SystemdNotify

/// `hq serve` under systemd (`Type=notify`, `WatchdogSec=`): pings the watchdog while the
/// store answers a read, so a process whose store hangs is restarted by systemd rather than
/// kept as a listener that takes requests and never answers them.
///
/// READY=1 is sent by the application once the listener is bound (the store opened before
/// that), and STOPPING=1 by `HQDrain` when shutdown begins; this service only pings.
struct HQWatchdog: Service {
    let notifier: SystemdNotifier
    /// A cheap store read; a ping is sent only after it returns.
    let check: @Sendable () async throws -> Void
    let logger: Logger

    func run() async throws {
        guard let interval = notifier.watchdogInterval else {
            // No watchdog configured: stay in the group until it shuts down.
            try? await gracefulShutdown()
            return
        }
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await check()
                    notifier.watchdog()
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("watchdog not pinged: the store did not answer", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
