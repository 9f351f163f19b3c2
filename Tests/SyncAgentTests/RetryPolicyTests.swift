import SyncAgent
import SyncTestSupport
import Testing

@Suite("Retry policy")
struct RetryPolicyTests {
    @Test("the jitter ceiling doubles from the base and stops at the cap")
    func ceilings() {
        let policy = RetryPolicy()
        #expect(policy.ceilingMillis(attempt: 0) == 500)
        #expect(policy.ceilingMillis(attempt: 1) == 1_000)
        #expect(policy.ceilingMillis(attempt: 5) == 16_000)
        #expect(policy.ceilingMillis(attempt: 10) == 30_000)
        #expect(policy.ceilingMillis(attempt: 63) == 30_000)
        #expect(policy.ceilingMillis(attempt: Int.max) == 30_000)
        #expect(policy.ceilingMillis(attempt: -3) == 500)
    }

    @Test("delays are full jitter: within 0...ceiling and spread over it", arguments: [0, 1, 4, 9, 30, 1_000])
    func jitterWithinRange(attempt: Int) {
        let seed = UInt64(0xD5_0000 + attempt)
        print("RetryPolicyTests seed \(seed)")
        var generator = SeededGenerator(seed: seed)
        let policy = RetryPolicy()
        let ceiling = policy.ceilingMillis(attempt: attempt)
        var delays: [Int64] = []
        for _ in 0..<2_000 {
            delays.append(policy.delayMillis(attempt: attempt, retryAfterSeconds: nil, using: &generator))
        }
        #expect(delays.allSatisfy { $0 >= 0 && $0 <= ceiling })
        // Full jitter, not "ceiling/2 + jitter": both the low and the high quarter are used.
        #expect(delays.contains { $0 < ceiling / 4 })
        #expect(delays.contains { $0 > ceiling * 3 / 4 })
    }

    @Test("Retry-After is a floor, and the result never passes one hour")
    func retryAfterHonoured() {
        var generator = SeededGenerator(seed: 42)
        let policy = RetryPolicy()
        for attempt in 0..<20 {
            let delay = policy.delayMillis(attempt: attempt, retryAfterSeconds: 120, using: &generator)
            #expect(delay >= 120_000)
            #expect(delay <= max(120_000, policy.ceilingMillis(attempt: attempt)))
        }
        #expect(policy.delayMillis(attempt: 0, retryAfterSeconds: 86_400, using: &generator) == 3_600_000)
        #expect(policy.delayMillis(attempt: 0, retryAfterSeconds: Int.max, using: &generator) == 3_600_000)
        let zero = policy.delayMillis(attempt: 0, retryAfterSeconds: 0, using: &generator)
        #expect(zero >= 0 && zero <= 500)
        let negative = policy.delayMillis(attempt: 0, retryAfterSeconds: -5, using: &generator)
        #expect(negative >= 0 && negative <= 500)
    }

    @Test("a custom base and cap are respected")
    func customBounds() {
        var generator = SeededGenerator(seed: 7)
        let policy = RetryPolicy(baseMillis: 100, capMillis: 1_000)
        for attempt in 0..<50 {
            #expect(policy.delayMillis(attempt: attempt, retryAfterSeconds: nil, using: &generator) <= 1_000)
        }
        #expect(RetryPolicy(baseMillis: Int64.max, capMillis: 1_000).ceilingMillis(attempt: 3) == 1_000)
    }

    @Test("transient statuses are retried, other client errors are not")
    func retryableStatuses() {
        let policy = RetryPolicy()
        for status in [408, 425, 429, 500, 502, 503, 504] {
            #expect(policy.isRetryable(status: status), "\(status)")
        }
        for status in [200, 201, 204, 301, 400, 401, 403, 404, 409, 413, 415, 422, 501, 505] {
            #expect(!policy.isRetryable(status: status), "\(status)")
        }
    }
}
