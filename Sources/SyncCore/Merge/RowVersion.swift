/// Everything a node knows about one row: its identity, its version vector, and for each
/// column and for its existence the set of concurrent writes not yet overwritten.
///
/// Usually each column holds one write. It holds several only after concurrent edits on
/// different nodes, until someone writes the column again; the merge policy picks the
/// value to show, the same on every node, and the others are the conflict's losing values.
/// A delete keeps the column writes, so that an update that wins over a concurrent delete
/// brings the whole row back, not only the columns it touched.
public struct RowVersion: Hashable, Sendable {
    public var table: String
    public var key: RowKey
    /// Every write this node has seen for the row.
    public var versionVector: VersionVector
    public var origin: RowOrigin
    /// Concurrent existence writes, sorted by dot; never empty.
    public internal(set) var liveness: [LivenessWrite]
    /// Column name → concurrent writes, sorted by dot; never empty. A missing column is
    /// unknown to this node (for example a tombstone sent without values), not NULL.
    public internal(set) var columns: [String: [ColumnWrite]]

    /// A version from decoded or stored parts. Write lists are put in canonical order.
    public init(
        table: String, key: RowKey, versionVector: VersionVector, origin: RowOrigin,
        liveness: [LivenessWrite], columns: [String: [ColumnWrite]]
    ) {
        precondition(!liveness.isEmpty, "a row version needs at least one existence write")
        self.table = table
        self.key = key
        self.versionVector = versionVector
        self.origin = origin
        self.liveness = liveness.sorted { $0.dot < $1.dot }
        self.columns = columns.mapValues { $0.sorted { $0.dot < $1.dot } }
    }

    /// Drops the writes of `names`: columns a store keeps local (docs/PRIVACY.md) never
    /// travel, even when a version recorded them before the schema said so.
    public mutating func removeColumns(_ names: Set<String>) {
        for name in names { columns[name] = nil }
    }

    /// Replaces the value of every write of `column` by `transform`'s; a nil from it drops
    /// the column (a masked or hashed column, docs/PRIVACY.md). Dots and clocks stay.
    public mutating func mapWrites(of column: String, _ transform: (SQLValue) -> SQLValue?) {
        guard let writes = columns[column] else { return }
        var mapped: [ColumnWrite] = []
        for write in writes {
            guard let value = transform(write.value) else {
                columns[column] = nil
                return
            }
            mapped.append(ColumnWrite(value: value, dot: write.dot, hlc: write.hlc))
        }
        columns[column] = mapped
    }

    /// The first version of a row inserted on `dot.node`.
    public static func inserted(
        table: String, key: RowKey, values: [String: SQLValue], dot: Dot, hlc: HLCTimestamp
    ) -> RowVersion {
        var vv = VersionVector()
        vv.record(dot)
        return RowVersion(
            table: table, key: key, versionVector: vv, origin: RowOrigin(node: dot.node, hlc: hlc),
            liveness: [LivenessWrite(alive: true, dot: dot, hlc: hlc)],
            columns: values.mapValues { [ColumnWrite(value: $0, dot: dot, hlc: hlc)] })
    }

    /// A local insert or update of `values` (all columns of a re-insert, the changed ones of
    /// an update): each written column now holds only this write, and the row exists.
    public mutating func write(_ values: [String: SQLValue], dot: Dot, hlc: HLCTimestamp) {
        versionVector.record(dot)
        liveness = [LivenessWrite(alive: true, dot: dot, hlc: hlc)]
        for (column, value) in values {
            columns[column] = [ColumnWrite(value: value, dot: dot, hlc: hlc)]
        }
    }

    /// A local delete. Column writes stay, so a concurrent update can still bring the row back.
    public mutating func delete(dot: Dot, hlc: HLCTimestamp) {
        versionVector.record(dot)
        liveness = [LivenessWrite(alive: false, dot: dot, hlc: hlc)]
    }

    /// The same version without `names`' column writes: what a push contributes once the
    /// columns its sender may not write are set aside (see docs/SECURITY.md).
    public func removingColumns(_ names: Set<String>) -> RowVersion {
        var version = self
        for name in names { version.columns[name] = nil }
        return version
    }

    /// A write to one column alone, leaving the row's existence as it is: how HQ puts its
    /// own value back over a write it did not let in, so that every node, the writer too,
    /// sees HQ's value as the newer write.
    public mutating func overwrite(column: String, with value: SQLValue, dot: Dot, hlc: HLCTimestamp) {
        versionVector.record(dot)
        columns[column] = [ColumnWrite(value: value, dot: dot, hlc: hlc)]
    }

    /// Whether the row exists under `policy` (a delete may lose to a concurrent update).
    public func isAlive(policy: MergePolicy) -> Bool { policy.winner(of: liveness).alive }

    /// The value of each known column that `policy` picks.
    public func values(policy: MergePolicy) -> [String: SQLValue] {
        var result: [String: SQLValue] = [:]
        result.reserveCapacity(columns.count)
        for (column, writes) in columns {
            result[column] = writes.count == 1 ? writes[0].value : policy.winner(of: writes, column: column, origin: origin).value
        }
        return result
    }

    /// The writes this version holds for `column` (empty when unknown).
    public func writes(of column: String) -> [ColumnWrite] { columns[column] ?? [] }

    /// The newest HLC of any write in the row.
    public var latestHLC: HLCTimestamp {
        var latest = liveness.map(\.hlc).max() ?? .zero
        for writes in columns.values { for write in writes where write.hlc > latest { latest = write.hlc } }
        return latest
    }

    /// Every dot the version holds, for consistency checks.
    var allDots: [Dot] { liveness.map(\.dot) + columns.values.flatMap { $0.map(\.dot) } }
}
