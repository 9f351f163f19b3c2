/// Work HQ asks a store to do at its next cycle, sent with every pull while it is open
/// (docs/ROLLOUT.md):
///
///     X-Dealersync-Request: id=7 kind=resync table=customers
///
/// No `table`: every synced table. The store reports progress with `StoreRequestProgress`.
public struct StoreRequest: Hashable, Sendable {
    public static let headerName = "X-Dealersync-Request"

    public enum Kind: String, Hashable, Sendable {
        /// Queue every row without sync history and every row gone from the DMS, then pull
        /// everything routed to the store again (`dealersync resync`).
        case resync
    }

    public var id: Int64
    public var kind: Kind
    public var table: String?

    public init(id: Int64, kind: Kind, table: String?) {
        self.id = id
        self.kind = kind
        self.table = table
    }

    public var headerValue: String { "id=\(id) kind=\(kind.rawValue)" + (table.map { " table=\($0)" } ?? "") }

    /// Nil for anything but `id`, a known `kind` and an optional table name of letters,
    /// digits and `_` (at most 128 bytes), each once.
    public init?(headerValue: String) {
        guard let fields = HeaderFields.parse(headerValue, maxBytes: 256, allowed: ["id", "kind", "table"]),
              let id = fields["id"].flatMap({ Int64($0) }), id > 0,
              let kind = fields["kind"].flatMap(Kind.init(rawValue:))
        else { return nil }
        if let table = fields["table"] {
            guard (1...128).contains(table.utf8.count),
                  table.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F })
            else { return nil }
        }
        self.init(id: id, kind: kind, table: fields["table"])
    }
}

/// A store's report on a `StoreRequest` (`POST /v1/dealers/{id}/requests/{request}`, JSON).
public struct StoreRequestProgress: Hashable, Sendable, Codable {
    public enum State: String, Hashable, Sendable, Codable {
        case running, done, failed
    }

    public var state: State
    public var done: Int
    public var total: Int
    /// Counts when done, an error code when failed: never a row value.
    public var message: String?

    public init(state: State, done: Int, total: Int, message: String? = nil) {
        self.state = state
        self.done = done
        self.total = total
        self.message = message
    }
}

extension SyncSchema {
    /// On pulls, the schema version HQ assigns to the store (docs/ROLLOUT.md); the store
    /// fetches it from `GET /v1/dealers/{id}/schema` when it runs another one.
    public static let versionHeaderName = "X-Dealersync-Schema"
}
