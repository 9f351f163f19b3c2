/// How long to wait before the next try after a failed exchange with HQ.
///
/// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
/// Jitter"): the delay is uniform in `0...min(cap, base * 2^attempt)`, so a thousand
/// dealers that lost HQ at the same moment do not come back at the same moment. A
/// `Retry-After` from HQ is a floor: the agent never comes back sooner than asked, but never
/// waits longer than `maxRetryAfterMillis` whatever a confused proxy says.
///
/// A pure value: randomness comes from the caller, so tests pass a seeded generator.
public struct RetryPolicy: Sendable, Hashable {
    /// The jitter ceiling of the first retry (attempt 0).
    public var baseMillis: Int64 = 500
    /// The jitter ceiling never grows past this. 30 s, not the first version's 5 minutes:
    /// with full jitter an agent comes back on average half a cap after HQ does, and the
    /// 5-minute cap kept the fleet away for 172–181 s after HQ's return in the chaos run;
    /// 1,000 agents retrying every 15 s on average are about 70 cheap refused connections a
    /// second, no herd (`dealersync-bench catch-up`).
    public var capMillis: Int64 = 30_000
    /// The longest wait a `Retry-After` can impose.
    public var maxRetryAfterMillis: Int64 = 3_600_000

    public init(baseMillis: Int64 = 500, capMillis: Int64 = 30_000, maxRetryAfterMillis: Int64 = 3_600_000) {
        self.baseMillis = baseMillis
        self.capMillis = capMillis
        self.maxRetryAfterMillis = maxRetryAfterMillis
    }

    /// The upper bound of the jittered delay for a 0-based `attempt`: `min(cap, base * 2^attempt)`.
    public func ceilingMillis(attempt: Int) -> Int64 {
        let base = max(baseMillis, 0)
        let cap = max(capMillis, 0)
        let shift = min(max(attempt, 0), 62)
        // base * 2^shift overflows once base exceeds Int64.max >> shift; the cap wins then anyway.
        guard base <= Int64.max >> shift else { return cap }
        return min(cap, base << shift)
    }

    /// The delay before retry number `attempt` (0 for the first retry after a failure).
    /// `retryAfterSeconds` is HQ's `Retry-After`, parsed with `RetryAfter.seconds(from:now:)`.
    public func delayMillis(
        attempt: Int, retryAfterSeconds: Int?, using generator: inout some RandomNumberGenerator
    ) -> Int64 {
        let jittered = Int64.random(in: 0...ceilingMillis(attempt: attempt), using: &generator)
        guard let retryAfterSeconds else { return jittered }
        let limit = max(maxRetryAfterMillis, 0)
        let floor = retryAfterSeconds <= 0 ? 0 : (retryAfterSeconds >= limit / 1000 ? limit : Int64(retryAfterSeconds) * 1000)
        return min(max(jittered, floor), limit)
    }

    /// Whether an HTTP status is worth retrying: request timeout, too early, rate limited and
    /// the transient server errors. Any other 4xx means the request itself is wrong, and
    /// sending it again would get the same answer.
    public func isRetryable(status: Int) -> Bool {
        switch status {
        case 408, 425, 429, 500, 502, 503, 504: true
        default: false
        }
    }
}
