import Foundation
import HQServer
import SyncTestSupport
import Testing

/// The push admission gate on its own: a push over the bound waits its turn, first come
/// first served, and gives up after `maxWait`.
@Suite("ingest gate")
struct IngestGateTests {
    /// Polls `condition` every millisecond; fails the test after 10 s.
    static func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        guard try await SyncTestSupport.waitUntil(seconds: 10, every: 1, condition) else {
            Issue.record("\(what) did not happen within 10 s")
            throw CancellationError()
        }
    }

    @Test("waiting pushes get the slot in the order they came, and a freed slot with nobody waiting is free again")
    func fifo() async throws {
        let gate = IngestGate(capacity: 1, maxWait: .seconds(60))
        #expect(await gate.enter())
        let order = OrderLog()
        var waiters: [Task<Bool, Never>] = []
        for index in 0..<3 {
            waiters.append(Task {
                let entered = await gate.enter()
                order.append(index)
                return entered
            })
            try await Self.waitUntil("waiter \(index) queued") { gate.queued == index + 1 }
        }
        for index in 0..<3 {
            gate.leave()
            #expect(await waiters[index].value, "waiter \(index) gets the slot")
            #expect(gate.current == 1 && gate.queued == 2 - index)
        }
        #expect(order.values == [0, 1, 2])
        gate.leave()
        #expect(gate.current == 0)
        #expect(await gate.enter(), "a free slot is taken without waiting")
    }

    @Test("a push that waits longer than maxWait is refused, and leaves the queue")
    func timeout() async throws {
        let gate = IngestGate(capacity: 1, maxWait: .milliseconds(30))
        #expect(await gate.enter())
        let started = ContinuousClock.now
        #expect(await gate.enter() == false)
        #expect(ContinuousClock.now - started >= .milliseconds(30))
        #expect(gate.queued == 0 && gate.current == 1)
        gate.leave()
        #expect(gate.current == 0)
    }
}

/// Records the order in which concurrent tasks got through.
final class OrderLog: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Int] = []
    func append(_ value: Int) { lock.withLock { recorded.append(value) } }
    var values: [Int] { lock.withLock { recorded } }
}
