/// One write to a column of a row: the value, the event that wrote it, and when.
public struct ColumnWrite: Hashable, Sendable {
    public var value: SQLValue
    public var dot: Dot
    public var hlc: HLCTimestamp

    public init(value: SQLValue, dot: Dot, hlc: HLCTimestamp) {
        self.value = value
        self.dot = dot
        self.hlc = hlc
    }
}

/// One write to a row's existence: an insert or update (`alive`) or a delete (not alive).
public struct LivenessWrite: Hashable, Sendable {
    public var alive: Bool
    public var dot: Dot
    public var hlc: HLCTimestamp

    public init(alive: Bool, dot: Dot, hlc: HLCTimestamp) {
        self.alive = alive
        self.dot = dot
        self.hlc = hlc
    }
}

/// The node that first created a row, and when. Owners of `origin`-owned columns.
///
/// If two nodes create the same key concurrently, the earlier creation (by HLC, then node
/// id) is the origin on every node: taking the minimum is order-independent.
public struct RowOrigin: Hashable, Comparable, Sendable {
    public var node: NodeID
    public var hlc: HLCTimestamp

    public init(node: NodeID, hlc: HLCTimestamp) {
        self.node = node
        self.hlc = hlc
    }

    public static func < (lhs: RowOrigin, rhs: RowOrigin) -> Bool {
        lhs.hlc != rhs.hlc ? lhs.hlc < rhs.hlc : lhs.node < rhs.node
    }
}

/// The fields a write has that the merge rule looks at.
protocol DottedWrite: Hashable {
    var dot: Dot { get }
    var hlc: HLCTimestamp { get }
}

extension ColumnWrite: DottedWrite {}
extension LivenessWrite: DottedWrite {}

/// The multi-value register join: of each side's writes, keep those the other side has not
/// seen (its version vector does not cover the dot) or also holds. A write one side has
/// seen but no longer holds was overwritten there, so it is dropped.
///
/// This is a join (commutative, associative, idempotent) for states produced by the rules
/// in `RowVersion`, which is what makes the merge order-independent. Results are sorted by
/// dot, the canonical order.
func joinWrites<W: DottedWrite>(
    _ local: [W], _ localSeen: VersionVector, _ remote: [W], _ remoteSeen: VersionVector
) -> [W] {
    let remoteDots = Set(remote.map(\.dot))
    let localDots = Set(local.map(\.dot))
    var kept = local.filter { remoteDots.contains($0.dot) || !remoteSeen.covers($0.dot) }
    kept += remote.filter { !localDots.contains($0.dot) && !localSeen.covers($0.dot) }
    if kept.isEmpty {
        // Each side saw the other's write and neither holds it: the inputs do not come from
        // one causal history. Keep both so that the policy still decides, the same way
        // everywhere, instead of losing the column.
        kept = local + remote.filter { !localDots.contains($0.dot) }
    }
    return kept.sorted { $0.dot < $1.dot }
}
