/// Agent settings HQ publishes to a group of stores (`hq group settings`), sent with every
/// pull (docs/ROLLOUT.md). They override the store's own config while they are set, so a
/// fleet's load on HQ is tuned without touching a store:
///
///     X-Dealersync-Settings: poll_seconds=30 page_rows=500
public struct GroupAgentSettings: Hashable, Sendable, Codable {
    public static let headerName = "X-Dealersync-Settings"
    public static let pollSecondsRange = 1...3_600
    public static let pageRowsRange = 10...10_000

    /// The longest wait between cycles when the DMS does not change.
    public var pollSeconds: Int?
    /// Rows asked for in one pull.
    public var pageRows: Int?

    public init(pollSeconds: Int? = nil, pageRows: Int? = nil) {
        self.pollSeconds = pollSeconds
        self.pageRows = pageRows
    }

    public var isEmpty: Bool { pollSeconds == nil && pageRows == nil }

    public var headerValue: String {
        [pollSeconds.map { "poll_seconds=\($0)" }, pageRows.map { "page_rows=\($0)" }].compactMap { $0 }.joined(separator: " ")
    }

    /// Nil for anything but known keys, once each, with values in their ranges.
    public init?(headerValue: String) {
        guard let fields = HeaderFields.parse(headerValue, maxBytes: 128, allowed: ["poll_seconds", "page_rows"]) else { return nil }
        func value(_ key: String, in range: ClosedRange<Int>) -> Int?? {
            guard let text = fields[key] else { return .some(nil) }
            guard let number = Int(text), range.contains(number) else { return nil }
            return .some(number)
        }
        guard let pollSeconds = value("poll_seconds", in: Self.pollSecondsRange), let pageRows = value("page_rows", in: Self.pageRowsRange) else { return nil }
        self.init(pollSeconds: pollSeconds, pageRows: pageRows)
    }
}
