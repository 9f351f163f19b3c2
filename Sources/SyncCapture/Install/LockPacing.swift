import Foundation

/// The pause between two chunks of a long job (snapshot, reconcile) that takes the write
/// lock chunk after chunk.
///
/// Chunks back to back kept a waiting DMS out for the whole job: a DMS connection waiting
/// for the lock sleeps in SQLite's busy handler and retries at most every 100 ms
/// (`sqlite3_busy_timeout`: 1, 2, 5, … 50, 100 ms), so it only gets in if the lock is free
/// when it looks. A pause longer than its longest sleep always contains one of its retries:
/// the bench measured a one-row DMS commit waiting 2.7 s behind a 20,000-row reconcile
/// without it. With chunks of half `capture.max_lock_millis`, a DMS write waits at most
/// about one chunk plus one of its sleeps.
enum LockPacing {
    static let pause: TimeInterval = 0.110

    static func letTheDMSIn() { Thread.sleep(forTimeInterval: pause) }
}
