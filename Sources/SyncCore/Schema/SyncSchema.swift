/// The sync schema: which DMS tables sync, in which direction, who owns which columns, and
/// how HQ routes rows to dealers. One YAML document (see docs/SYNC-SCHEMA.md); HQ is its
/// source of truth, and `dealersync init` also reads it from a file for offline set-up.
///
/// Tables are listed parents first: the agent applies remote rows in this order so that
/// foreign keys always find their parent.
public struct SyncSchema: Hashable, Sendable {
    public var version: UInt64
    public var tables: [TableSpec]
    /// One customer across stores (docs/IDENTITY.md); nil: HQ links nobody.
    public var identity: IdentitySpec?

    public init(version: UInt64, tables: [TableSpec], identity: IdentitySpec? = nil) {
        self.version = version
        self.tables = tables
        self.identity = identity
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
    /// The table's columns and declared types at HQ, in order (`columns:` in the YAML);
    /// nil: HQ learns them from the stores (docs/HQ-TABLES.md). With `key`.
    public var columns: [ColumnSpec]?
    /// The primary-key columns, in order; given together with `columns`.
    public var key: [String]?
    /// Indexes HQ keeps on its SQL table (each a list of columns); stores ignore them.
    public var indexes: [[String]]
    /// Data-quality rules HQ evaluates per column (docs/QUALITY.md); stores ignore them.
    public var quality: [ColumnQuality]
    /// Columns that never leave the store (`local:`, docs/PRIVACY.md): not captured, never
    /// sent, never written from HQ; HQ drops them from any push that carries them.
    public var localColumns: Set<String> = []
    /// Columns HQ and other stores receive only masked (`masked:`, `MaskedForm`).
    public var maskedColumns: Set<String> = []
    /// Columns HQ and other stores receive only as a keyed hash (`hashed:`, `HashedForm`).
    public var hashedColumns: Set<String> = []

    public init(
        name: String, direction: Direction, routingColumn: String? = nil, broadcast: Bool = false,
        owners: [String: MergePolicy.Owner] = [:], deleteRule: MergePolicy.DeleteRule = .updateWins,
        columns: [ColumnSpec]? = nil, key: [String]? = nil, indexes: [[String]] = [], quality: [ColumnQuality] = []
    ) {
        self.quality = quality
        self.columns = columns
        self.key = key
        self.indexes = indexes
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

extension SyncSchema {
    /// This schema with every column that `other` keeps local, masks or hashes treated so
    /// here too: HQ applies its own policies to pushes written under an older version, so a
    /// policy made stricter later takes effect at once, fleet-wide (docs/PRIVACY.md).
    public func keepingPrivacy(of other: SyncSchema) -> SyncSchema {
        var schema = self
        for index in schema.tables.indices {
            guard let stricter = other.table(named: schema.tables[index].name) else { continue }
            schema.tables[index].localColumns.formUnion(stricter.localColumns)
            schema.tables[index].maskedColumns.formUnion(stricter.maskedColumns.subtracting(schema.tables[index].localColumns))
            schema.tables[index].hashedColumns.formUnion(stricter.hashedColumns.subtracting(schema.tables[index].localColumns))
        }
        return schema
    }
}

/// A column as the sync schema declares it for HQ's SQL tables: its name and its declared
/// type, which goes into `CREATE TABLE` as written (so `isSafe` guards what a type may be).
public struct ColumnSpec: Hashable, Sendable {
    public var name: String
    public var declaredType: String

    public init(name: String, declaredType: String) {
        self.name = name
        self.declaredType = declaredType
    }

    /// Empty, or words of letters, digits and `_` (the first a letter) with at most one
    /// `(n)` or `(n, m)` at the end: `TEXT`, `VARCHAR(20)`, `DOUBLE PRECISION`,
    /// `DECIMAL(10, 2)`. Anything else could end the column list of a `CREATE TABLE`.
    public static func isSafe(declaredType type: String) -> Bool {
        guard type.utf8.count <= 64 else { return false }
        var words = Substring(type)
        var arguments: Substring = ""
        if let open = type.firstIndex(of: "(") {
            guard type.hasSuffix(")") else { return false }
            words = type[..<open]
            arguments = type[type.index(after: open)..<type.index(before: type.endIndex)]
        }
        func isWordCharacter(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_") }
        let parts = words.split(separator: " ")
        guard parts.allSatisfy({ $0.first!.isASCII && $0.first!.isLetter && $0.allSatisfy(isWordCharacter) }) else { return false }
        guard !parts.isEmpty || (arguments.isEmpty && !type.contains("(")) else { return false }
        guard type.contains("(") else { return true }
        let numbers = arguments.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        return (1...2).contains(numbers.count) && numbers.allSatisfy { number in
            let digits = number.first == "+" || number.first == "-" ? number.dropFirst() : number
            return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}
