import Hummingbird

/// Reads a request body whole, refusing it as soon as it passes `limit` bytes. An upload that
/// breaks off (the client or a proxy cut the connection mid-body, a malformed chunk, or HQ's
/// idle timeout closed a silent connection) is the client's fault, not HQ's: it becomes a
/// 400, never a 500 logged as an HQ error.
///
/// A body that trickles in slower than `minBytesPerSecond` on average, once `grace` has
/// passed, is cut with 408: silence is caught by the connection's idle timeout, and this
/// catches a byte sent every few seconds to keep a connection and its upload slot.
enum RequestBody {
    static let grace: Duration = .seconds(10)

    static func collect(
        _ request: Request, limit: Int, minBytesPerSecond: Int = 0, tooLarge: () -> HQError
    ) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        let start = ContinuousClock.now
        do {
            for try await chunk in request.body {
                guard bytes.count + chunk.readableBytes <= limit else { throw tooLarge() }
                bytes.append(contentsOf: chunk.readableBytesView)
                let elapsed = ContinuousClock.now - start
                if minBytesPerSecond > 0, elapsed > grace, Double(bytes.count) < elapsed.seconds * Double(minBytesPerSecond) {
                    throw HQError(
                        .requestTimeout, "the request body arrived at under \(minBytesPerSecond) bytes a second (\(bytes.count) bytes in \(Int(elapsed.seconds)) s)",
                        hint: "check the store's network link; the agent retries on its own")
                }
            }
        } catch let error as HQError {
            throw error
        } catch {
            throw HQError.badRequest("the request body broke off after \(bytes.count) bytes", hint: "send it again (the agent retries on its own)")
        }
        return bytes
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
