import Synchronization

/// Bounds the pushes applied at once. Over the bound a push waits its turn, first come
/// first served, for at most `maxWait`; only then is it refused with 429 and `Retry-After`.
///
/// Refusing at once (as the first version did) let an unlucky dealer lose the race for a
/// free slot many times in a row: 1,000 dealers on 100 connections had a p99 push latency
/// of 28.5 s (BENCHMARKS.md, fleet). A waiting push costs HQ an idle connection and a
/// continuation: its body is not read until it has a slot, so the wait is bounded in time
/// and in memory per connection, and a reconnect storm still ends in 429s.
package final class IngestGate: Sendable {
    private struct State {
        var inFlight = 0
        var nextTicket: UInt64 = 0
        var waiting: [(ticket: UInt64, wake: CheckedContinuation<Bool, Never>, timeout: Task<Void, Never>)] = []
    }

    private let state = Mutex(State())
    package let capacity: Int
    package let maxWait: Duration

    package init(capacity: Int, maxWait: Duration) {
        self.capacity = capacity
        self.maxWait = maxWait
    }

    /// Takes a slot, waiting behind earlier pushes for at most `maxWait`; false when none
    /// came free in time.
    package func enter() async -> Bool {
        await withCheckedContinuation { continuation in
            state.withLock { state in
                if state.inFlight < capacity {
                    state.inFlight += 1
                    continuation.resume(returning: true)
                    return
                }
                let ticket = state.nextTicket
                state.nextTicket += 1
                // Started under the lock, so it cannot look for the ticket before it is queued.
                let timeout = Task { [maxWait] in
                    guard (try? await Task.sleep(for: maxWait)) != nil else { return }
                    self.giveUp(ticket)
                }
                state.waiting.append((ticket, continuation, timeout))
            }
        }
    }

    /// Gives the slot to the longest-waiting push, or frees it.
    package func leave() {
        state.withLock { state in
            if state.waiting.isEmpty {
                state.inFlight -= 1
            } else {
                let next = state.waiting.removeFirst()
                next.timeout.cancel()
                next.wake.resume(returning: true)
            }
        }
    }

    /// Ends a wait that lasted `maxWait`; nothing happens if the push already has its slot.
    private func giveUp(_ ticket: UInt64) {
        state.withLock { state in
            if let index = state.waiting.firstIndex(where: { $0.ticket == ticket }) {
                state.waiting.remove(at: index).wake.resume(returning: false)
            }
        }
    }

    package var current: Int { state.withLock { $0.inFlight } }
    package var queued: Int { state.withLock { $0.waiting.count } }
}
