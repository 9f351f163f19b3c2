import Logging
import ServiceLifecycle

/// Runs `work` at once and then every `interval` in `hq serve`'s service group, until
/// shutdown: the data-quality snapshot (hourly, so a day keeps its last state) and the
/// status history the console charts (every 5 minutes). A failed round is logged, never
/// with values, and the next one tries again.
struct PeriodicService: Service {
    /// What a round does, for the log: "data-quality snapshot".
    let name: String
    let interval: Duration
    let logger: Logger
    let work: @Sendable () async throws -> Void

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await work()
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("\(name) not recorded; the next round tries again", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
