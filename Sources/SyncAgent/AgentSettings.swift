/// How the store agent talks to HQ and how often it cycles. Read from the agent's config
/// file by the command line (see deploy/agent.example.yaml).
public struct AgentSettings: Sendable {
    /// HQ's base URL, e.g. `https://hq.example.com` (no trailing slash needed).
    public var hqURL: String
    /// This dealer's token from `dealersync hq add-dealer`. Never logged.
    public var token: String
    /// Rows asked for in one pull.
    public var pullPageRows: Int
    /// The longest wait between cycles when the DMS does not change.
    public var pollIntervalMillis: Int
    /// How often `PRAGMA data_version` is checked for a DMS commit while waiting.
    public var changeCheckMillis: Int
    /// Batches pushed and pages pulled in one cycle before the loop checks in again.
    public var maxExchangesPerCycle: Int
    public var retry: RetryPolicy
    /// The longest a cycle spends reconciling a table whose capture was off before it
    /// pushes what it found (the next cycle goes on): well under the watchdog's interval.
    public var reconcileBudget: Duration = .seconds(10)

    public init(
        hqURL: String, token: String, pullPageRows: Int = 1_000, pollIntervalMillis: Int = 5_000,
        changeCheckMillis: Int = 200, maxExchangesPerCycle: Int = 50, retry: RetryPolicy = RetryPolicy()
    ) {
        self.hqURL = hqURL.hasSuffix("/") ? String(hqURL.dropLast()) : hqURL
        self.token = token
        self.pullPageRows = pullPageRows
        self.pollIntervalMillis = pollIntervalMillis
        self.changeCheckMillis = changeCheckMillis
        self.maxExchangesPerCycle = maxExchangesPerCycle
        self.retry = retry
    }
}
