import SyncCore

/// A sync schema version as HQ stores it: published once, never changed (docs/ROLLOUT.md).
public struct PublishedSchema: Sendable, Hashable {
    public var version: UInt64
    /// The schema in its canonical YAML form (`SyncSchema.yaml()`), as agents fetch it.
    public var yaml: String
    public var publishedAtMillis: Int64
}

/// What `publishSchema` did.
public struct SchemaPublication: Sendable, Hashable {
    public var version: UInt64
    /// False when this exact schema was published before (only assignments changed).
    public var stored: Bool
    /// The groups that now run `version`, and the version each ran before (nil: none set).
    public var movedGroups: [String: UInt64?]
}

/// A group of dealers that runs one schema version (`hq group`). Dealers without a group
/// belong to `default`.
public struct DealerGroup: Sendable, Hashable, Codable {
    public static let defaultName = "default"

    public var name: String
    /// The version its dealers are told to run; nil: HQ's own schema (`schema_file`), until
    /// `hq serve` first starts and assigns it.
    public var schemaVersion: UInt64?
    public var dealers: Int
    /// Dealers whose agent reported running `schemaVersion` (or HQ's own when nil).
    public var dealersRunning: Int
    /// Settings its agents use over their own config; nil: none.
    public var agentSettings: GroupAgentSettings? = nil

    enum CodingKeys: String, CodingKey {
        case name, dealers
        case agentSettings = "agent_settings"
        case schemaVersion = "schema_version"
        case dealersRunning = "dealers_running"
    }

    /// Letters, digits, `.`, `_` and `-`, 1 to 64 of them, as node ids.
    public static func isValidName(_ name: String) -> Bool { (try? NodeID(name)) != nil && name != NodeID.hq.rawValue }
}

/// What HQ tells a dealer with every pull: the schema version to run and an open request.
public struct DealerAssignment: Sendable, Hashable {
    public var group: String
    /// nil: HQ's own schema.
    public var schemaVersion: UInt64?
    public var request: RemoteRequest?
    /// The group's agent settings, nil when none are set.
    public var agentSettings: GroupAgentSettings? = nil
}

/// Work HQ asks one store to do at its next cycle (`hq resync`), and its progress as the
/// store reports it.
public struct RemoteRequest: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Codable, CaseIterable {
        case pending, running, done, failed
        public var isOpen: Bool { self == .pending || self == .running }
    }

    public var id: Int64
    public var dealer: String
    /// `resync` (the only kind so far).
    public var kind: String
    /// The table to resync; nil: every synced table.
    public var table: String?
    public var requestedAtMillis: Int64
    public var state: State
    public var done: Int
    public var total: Int
    /// The store's summary when done, or its error code when failed.
    public var message: String?
    public var updatedAtMillis: Int64

    enum CodingKeys: String, CodingKey {
        case id, dealer, kind, table, state, done, total, message
        case requestedAtMillis = "requested_ms"
        case updatedAtMillis = "updated_ms"
    }
}
