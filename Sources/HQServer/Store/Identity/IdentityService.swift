import Logging
import ServiceLifecycle

/// Links customers across stores behind ingest (`hq serve`'s service group): while there
/// are unlinked people or vehicle changes it links them a chunk at a time (each its own short
/// write transaction, so pushes go on meanwhile); then it waits for the next merge.
struct IdentityService<Store: SyncStore>: Service {
    let store: Store
    let notifier: ChangeNotifier
    let logger: Logger
    var chunk = 2_000

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let seen = await notifier.generation
                do {
                    if try await store.linkIdentities(chunk: chunk) > 0 { continue }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("linking customers stopped; it retries in 10 s", metadata: ["error": "\(error)"])
                    try await Task.sleep(for: .seconds(10))
                    continue
                }
                await notifier.wait(since: seen, timeout: .seconds(5))
            }
        }
    }
}
