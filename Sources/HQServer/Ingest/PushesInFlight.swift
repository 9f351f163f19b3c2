import Synchronization

/// Counts each authenticated dealer's pushes in flight. An agent pushes one batch at a time,
/// so more than a couple at once is a retry racing a slow answer, or a stolen token opening
/// uploads to hold HQ's upload slots: past `maxPerDealer` a push gets 429.
///
/// Keys are dealer ids that passed authentication, and an entry goes when its count is back
/// to zero, so the table never outgrows the fleet.
final class PushesInFlight: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    let maxPerDealer: Int

    init(maxPerDealer: Int) { self.maxPerDealer = maxPerDealer }

    /// Takes a place for `dealer`; false when it has `maxPerDealer` pushes in flight already.
    func enter(_ dealer: String) -> Bool {
        counts.withLock { counts in
            guard counts[dealer, default: 0] < maxPerDealer else { return false }
            counts[dealer, default: 0] += 1
            return true
        }
    }

    func leave(_ dealer: String) {
        counts.withLock { counts in
            let left = counts[dealer, default: 1] - 1
            counts[dealer] = left > 0 ? left : nil
        }
    }
}
