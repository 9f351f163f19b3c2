import Foundation

/// Runs blocking work (a socket read with a timeout) on a thread of its own and awaits it.
///
/// Blocking inside a test's task holds one of Swift concurrency's few threads (two on a
/// two-core machine), and an HQ under test runs its handlers on that same pool: two tests
/// blocked in `recv` at once stalled every server in the process, and their reads timed out.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
