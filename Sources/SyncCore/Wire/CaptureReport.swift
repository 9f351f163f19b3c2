/// What a store tells HQ about its capture on every pull, in `X-Dealersync-Capture`, so a
/// dealer whose capture was off (a DMS migration dropped the triggers) shows in `hq status`:
///
///     X-Dealersync-Capture: <state> <tables> <since-ms>
///
/// `state` is the worst of the store's captured tables: `ok`, `repairing` (triggers back,
/// rows being compared) or `off` (triggers gone, not repaired yet); `tables` how many are
/// not `ok`; `since-ms` when the latest capture gap was found (0: never). HQ parses it
/// strictly and keeps only these three values: a store cannot put text in HQ's status.
public struct CaptureReport: Hashable, Sendable, Codable {
    public enum State: String, Hashable, Sendable, Codable {
        case ok, repairing, off
    }

    public static let headerName = "X-Dealersync-Capture"

    public var state: State
    public var tables: Int
    /// When the latest capture gap was found, ms since 1970; nil when never.
    public var lastGapMillis: Int64?

    public init(state: State, tables: Int, lastGapMillis: Int64?) {
        self.state = state
        self.tables = tables
        self.lastGapMillis = lastGapMillis
    }

    public var headerValue: String { "\(state.rawValue) \(tables) \(lastGapMillis ?? 0)" }

    /// Nil for anything but three well-formed fields.
    public init?(headerValue: String) {
        let fields = headerValue.split(separator: " ", omittingEmptySubsequences: false)
        guard headerValue.utf8.count <= 64, fields.count == 3, let state = State(rawValue: String(fields[0])),
            let tables = Int(fields[1]), (0...100_000).contains(tables), let since = Int64(fields[2]), since >= 0
        else { return nil }
        self.init(state: state, tables: tables, lastGapMillis: since == 0 ? nil : since)
    }
}
