import Synchronization

/// The shape report HQ last refused and when, so a refused report is sent again only an
/// hour later (or at once when the shape changes).
final class ShapeRefusal: Sendable {
    private let last = Mutex<(sha256: String, at: ContinuousClock.Instant)?>(nil)

    func mayRetry(_ sha256: String) -> Bool {
        last.withLock { last in
            guard let last, last.sha256 == sha256 else { return true }
            return ContinuousClock.now - last.at >= .seconds(3_600)
        }
    }

    func record(_ sha256: String) { last.withLock { $0 = (sha256, ContinuousClock.now) } }
}
