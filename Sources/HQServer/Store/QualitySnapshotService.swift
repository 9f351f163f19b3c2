import Foundation
import Logging
import ServiceLifecycle
import SyncCore

/// Keeps a daily snapshot of every dealer's data-quality fields (docs/QUALITY.md), for the
/// trend in `/v1/quality`: every hour it records today's report as the day's snapshot, so a
/// day keeps its last state.
struct QualitySnapshotService: Service {
    let store: SQLiteSyncStore
    let schema: SyncSchema
    let logger: Logger
    var interval: Duration = .seconds(3_600)

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await store.recordQualitySnapshot(schema: schema, day: QualityWriter.today())
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("data-quality snapshot not recorded; the next hour tries again", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
