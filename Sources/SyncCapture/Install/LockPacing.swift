import Foundation

/// How a long job that takes the write lock chunk after chunk (snapshot, reconcile) leaves
/// room for the DMS.
///
/// A DMS connection that finds the lock taken sleeps in SQLite's busy handler and looks
/// again after 1, 2, 5, 10, 15, 20, 25, 25 ms … then 50 and 100 ms (`sqlite3_busy_timeout`).
/// It gets in only if the lock is free when it looks. Chunks back to back kept it out for
/// the whole job (a one-row commit waited 2.7 s behind a 20,000-row reconcile); chunks of
/// 100 ms with 110 ms pauses still let it wait 235 ms (1M-row reconcile, release). Chunks
/// of a quarter of `capture.max_lock_millis` keep the waiter in its 25 ms steps, and a
/// 30 ms pause always contains one of them: a DMS write waits about a chunk plus 25 ms.
enum LockPacing {
    static let pause: TimeInterval = 0.030

    /// The time one chunk should hold the lock.
    static func chunkTargetMillis(maxLockMillis: Int) -> Double { Double(maxLockMillis) / 4 }

    /// After a chunk of `rows` that held the lock for `elapsed`: the next chunk's size
    /// (scaled to the target, 50…50,000 rows), once the pause has let a waiting DMS in.
    static func next(after rows: Int, took elapsed: Duration, maxLockMillis: Int) -> Int {
        Thread.sleep(forTimeInterval: pause)
        let millis = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return max(50, min(50_000, Int(Double(rows) * chunkTargetMillis(maxLockMillis: maxLockMillis) / max(millis, 0.1))))
    }
}
