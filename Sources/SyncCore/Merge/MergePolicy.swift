/// How conflicts in one table are decided: who owns which columns, and whether a delete or
/// a concurrent update wins. Built from the sync schema's authority matrix.
public struct MergePolicy: Hashable, Sendable {
    /// Who owns a column: only the owner's write wins a conflict on it.
    public enum Owner: String, Hashable, Sendable, Codable {
        /// HQ (node `hq`), e.g. customer class or lead assignment.
        case hq
        /// The dealer that created the row, e.g. the salesperson's notes.
        case origin
    }

    /// What happens when a delete and an update of the same row are concurrent.
    public enum DeleteRule: String, Hashable, Sendable, Codable {
        /// The row survives with the update (the default: nothing is silently lost).
        case updateWins = "update-wins"
        /// The row stays deleted.
        case deleteWins = "delete-wins"
    }

    /// Column name → owner. Columns not listed are decided by last writer wins.
    public var owners: [String: Owner]
    public var deleteRule: DeleteRule

    public init(owners: [String: Owner] = [:], deleteRule: DeleteRule = .updateWins) {
        self.owners = owners
        self.deleteRule = deleteRule
    }

    /// Last writer wins on every column; update wins over delete.
    public static let lastWriterWins = MergePolicy()

    /// Whether `node` owns `column` of a row created by `origin`.
    func isOwner(_ node: NodeID, of column: String, origin: RowOrigin) -> Bool {
        switch owners[column] {
        case .hq: node == .hq
        case .origin: node == origin.node
        case nil: false
        }
    }

    /// The winning write of a column: the owner's write if there is one, then the latest
    /// HLC, then the larger node id, then the larger counter. A total order, so every node
    /// picks the same write from the same set.
    func winner(of writes: [ColumnWrite], column: String, origin: RowOrigin) -> ColumnWrite {
        writes.max { lhs, rhs in
            let lhsOwner = isOwner(lhs.dot.node, of: column, origin: origin)
            let rhsOwner = isOwner(rhs.dot.node, of: column, origin: origin)
            if lhsOwner != rhsOwner { return rhsOwner }
            return Self.isEarlier(lhs, rhs)
        }!
    }

    /// The winning existence write: by the delete rule first, then as for columns.
    func winner(of writes: [LivenessWrite]) -> LivenessWrite {
        writes.max { lhs, rhs in
            if lhs.alive != rhs.alive { return deleteRule == .updateWins ? rhs.alive : !rhs.alive }
            return Self.isEarlier(lhs, rhs)
        }!
    }

    private static func isEarlier<W: DottedWrite>(_ lhs: W, _ rhs: W) -> Bool {
        if lhs.hlc != rhs.hlc { return lhs.hlc < rhs.hlc }
        return lhs.dot < rhs.dot
    }
}
