/// One read of personal data at HQ (docs/PRIVACY.md): who, when, which tables, how many
/// rows. Recorded for every feed page a reader takes and every customer lookup (HQ systems,
/// the console, a store's counter); `dealersync hq access-log` lists them, and retention
/// drops them after `retention.access_log_days`. Never a value: ids, table names and counts.
public struct AccessRecord: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// A page of `GET /v1/feed`.
        case feed
        /// A customer read through `GET /v1/customers…` or the console (view or reveal).
        case customer
        /// A store's counter lookup of other stores' records.
        case counter
    }

    public var atMillis: Int64
    /// The reader's, console user's or dealer's id.
    public var who: String
    public var kind: Kind
    /// The tables whose rows were read, sorted.
    public var tables: [String]
    public var rows: Int
    /// What was asked, without values: `seq 101-200`, `console:reveal GC-…`, `mobile`.
    public var detail: String?

    public init(atMillis: Int64, who: String, kind: Kind, tables: [String], rows: Int, detail: String?) {
        self.atMillis = atMillis
        self.who = who
        self.kind = kind
        self.tables = tables
        self.rows = rows
        self.detail = detail
    }

    enum CodingKeys: String, CodingKey {
        case who, kind, tables, rows, detail
        case atMillis = "at_ms"
    }
}
