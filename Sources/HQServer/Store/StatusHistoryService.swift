import Foundation
import Logging
import ServiceLifecycle
import SyncCore

/// Records every dealer's backlog and push volume every few minutes (`status_history`), so
/// the console charts them over time; a week is kept.
struct StatusHistoryService: Service {
    let store: SQLiteSyncStore
    let schema: SyncSchema
    let logger: Logger
    var interval: Duration = .seconds(300)

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await store.recordStatusHistory(schema: schema, atMillis: Date.nowMillis)
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("status history not recorded; the next round tries again", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
