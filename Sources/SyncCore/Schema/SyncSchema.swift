/// The sync schema: which DMS tables sync, in which direction, who owns which columns, and
/// how HQ routes rows to dealers. One YAML document (see docs/SYNC-SCHEMA.md); HQ is its
/// source of truth, and `dealersync init` also reads it from a file for offline set-up.
///
/// Tables are listed parents first: the agent applies remote rows in this order so that
/// foreign keys always find their parent.
public struct SyncSchema: Hashable, Sendable {
    public var version: UInt64
    public var tables: [TableSpec]

    public init(version: UInt64, tables: [TableSpec]) {
        self.version = version
        self.tables = tables
    }

    public func table(named name: String) -> TableSpec? { tables.first { $0.name == name } }
}

/// One synced table.
public struct TableSpec: Hashable, Sendable {
    /// Which way rows of the table travel.
    public enum Direction: String, Hashable, Sendable, CaseIterable {
        /// Dealer → HQ and HQ → dealers. The key must be unique across the network
        /// (UUID text, VIN …), never an INTEGER rowid.
        case both
        /// Dealer → HQ only. HQ keys rows by dealer id and local key, so rowids are fine.
        case up
        /// HQ → dealers only.
        case down

        /// Whether dealers send changes of this table to HQ.
        public var dealerPushes: Bool { self != .down }
        /// Whether HQ sends changes of this table to dealers.
        public var dealerPulls: Bool { self != .up }
    }

    public var name: String
    public var direction: Direction
    /// A column holding the dealer id a row belongs to (e.g. `assigned_dealer`): HQ sends
    /// the row to that dealer. Rows a dealer already holds are always sent to it.
    public var routingColumn: String?
    /// Send every row of the table to every dealer (price lists, model catalogues).
    public var broadcast: Bool
    /// Column → owner. Only the owner's write wins a conflict on the column.
    public var owners: [String: MergePolicy.Owner]
    public var deleteRule: MergePolicy.DeleteRule

    public init(
        name: String, direction: Direction, routingColumn: String? = nil, broadcast: Bool = false,
        owners: [String: MergePolicy.Owner] = [:], deleteRule: MergePolicy.DeleteRule = .updateWins
    ) {
        self.name = name
        self.direction = direction
        self.routingColumn = routingColumn
        self.broadcast = broadcast
        self.owners = owners
        self.deleteRule = deleteRule
    }

    /// The merge policy built from the authority matrix.
    public var policy: MergePolicy { MergePolicy(owners: owners, deleteRule: deleteRule) }
}
