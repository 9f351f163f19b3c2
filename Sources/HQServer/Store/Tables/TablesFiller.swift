import Logging
import ServiceLifecycle

/// Fills HQ's SQL tables in the background (`hq serve`'s service group): when a table was
/// created, or gained a column, while the store already had its rows. A shape report that
/// needs a fill asks for one; a fill a restart interrupted resumes when HQ starts. Pushes go
/// on meanwhile: each chunk is its own short write transaction.
final class TablesFiller: Service, Sendable {
    private let requests: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    let fill: @Sendable () async throws -> Int
    let logger: Logger

    init(logger: Logger, fill: @escaping @Sendable () async throws -> Int) {
        // One waiting request is enough: a fill shows every table marked by then.
        (requests, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.fill = fill
        self.logger = logger
    }

    /// Asks for a fill soon (returns at once).
    func request() { continuation.yield() }

    func run() async throws {
        continuation.yield()
        try? await cancelWhenGracefulShutdown {
            for await _ in self.requests {
                do {
                    let rows = try await self.fill()
                    if rows > 0 { self.logger.info("HQ's SQL tables filled", metadata: ["rows": "\(rows)"]) }
                } catch is CancellationError {
                    return
                } catch {
                    self.logger.error(
                        "filling HQ's SQL tables stopped; it resumes at the next shape report or restart",
                        metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
