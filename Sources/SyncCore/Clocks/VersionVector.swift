/// How two version vectors relate in the causal partial order.
public enum CausalOrder: Sendable, Hashable {
    case equal
    /// The left side happened before the right: the right has seen everything the left has.
    case before
    /// The left side happened after the right.
    case after
    /// Neither has seen everything the other has.
    case concurrent
}

/// A version vector: for each node, the highest counter of that node's writes seen.
///
/// Missing entries are zero. Entries are never removed one-sided (node ids are never reused),
/// so the vector only grows and `merging` is a join: commutative, associative, idempotent.
public struct VersionVector: Hashable, Sendable, CustomStringConvertible {
    private(set) var counters: [NodeID: UInt64]

    public init() { counters = [:] }

    public init(_ counters: [NodeID: UInt64]) {
        self.counters = counters.filter { $0.value > 0 }
    }

    public subscript(node: NodeID) -> UInt64 { counters[node] ?? 0 }

    /// The entries, sorted by node id: the canonical order for encoding and display.
    public var entries: [(node: NodeID, counter: UInt64)] {
        counters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    public var isEmpty: Bool { counters.isEmpty }

    /// Whether this vector has seen the write `dot`.
    public func covers(_ dot: Dot) -> Bool { self[dot.node] >= dot.counter }

    /// Records that this vector has seen `dot` (and so every earlier write of its node).
    public mutating func record(_ dot: Dot) {
        if dot.counter > self[dot.node] { counters[dot.node] = dot.counter }
    }

    /// The pointwise maximum: everything either side has seen.
    public func merging(_ other: VersionVector) -> VersionVector {
        var result = self
        for (node, counter) in other.counters where counter > result[node] {
            result.counters[node] = counter
        }
        return result
    }

    /// Where this vector stands against `other` in the causal order.
    public func compare(_ other: VersionVector) -> CausalOrder {
        var someLess = false
        var someGreater = false
        for node in Set(counters.keys).union(other.counters.keys) {
            let mine = self[node]
            let theirs = other[node]
            if mine < theirs { someLess = true } else if mine > theirs { someGreater = true }
            if someLess && someGreater { return .concurrent }
        }
        switch (someLess, someGreater) {
        case (false, false): return .equal
        case (true, false): return .before
        case (false, true): return .after
        case (true, true): return .concurrent
        }
    }

    /// `self ≤ other`: every write seen here was also seen there.
    public func isDominated(by other: VersionVector) -> Bool {
        counters.allSatisfy { other[$0.key] >= $0.value }
    }

    public var description: String {
        "[" + entries.map { "\($0.node):\($0.counter)" }.joined(separator: ", ") + "]"
    }
}
