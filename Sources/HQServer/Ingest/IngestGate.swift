import Synchronization

/// Bounds the pushes applied at once. Over the bound a push is refused with 429 at once
/// rather than queued, so a reconnect storm costs HQ no memory; agents retry after
/// `Retry-After` with jitter.
final class IngestGate: Sendable {
    private let inFlight = Mutex(0)
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Takes a slot, or returns false when all are taken.
    func tryEnter() -> Bool {
        inFlight.withLock { count in
            guard count < capacity else { return false }
            count += 1
            return true
        }
    }

    func leave() { inFlight.withLock { $0 -= 1 } }

    var current: Int { inFlight.withLock { $0 } }
}
