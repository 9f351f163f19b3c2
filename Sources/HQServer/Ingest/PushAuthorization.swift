import SyncCore

/// What one dealer's pushed row may do to the row HQ holds: the access rules of
/// docs/SECURITY.md, decided before the merge from the stored version alone.
///
/// A dealer token sits in a file on a store PC, so every pushed byte may be crafted. The
/// merge trusts what a version claims (its version vector, dots, origin); these checks make
/// sure a dealer can claim only its own writes, write only rows it may read, and change no
/// column another node owns.
struct PushAuthorization {
    let dealer: NodeID
    let spec: TableSpec

    enum Verdict: Equatable {
        /// Merge the version. `overruled` columns carry the dealer's new writes to columns it
        /// does not own: they are left out of the merge and HQ writes its value back over them.
        case merge(RowVersion, overruled: [String])
        /// Dead-letter the row with this reason (names nodes and columns, never values).
        case refuse(String)
    }

    /// `stored` is HQ's version of the row (nil for a new key); `holds` whether the dealer
    /// holds it (created it, was routed it, or HQ shared it with the dealer).
    func check(_ pushed: RowVersion, stored: RowVersion?, holds: Bool) -> Verdict {
        // Read scope first: a write to someone else's row must not make the writer a holder,
        // or a guessed key (a VIN seen on a windshield) would pull the whole row back.
        if let stored, !holds, !spec.broadcast, spec.direction != .up, stored.origin.node != dealer {
            return .refuse("the row exists at HQ and this store does not hold it (it did not create it, and neither the routing column nor an HQ share gives it to this store)")
        }
        // Provenance: only HQ hands out other nodes' writes, so a store cannot know more of
        // them than HQ holds. A larger claim would make HQ drop the real writes as "seen".
        for (node, counter) in pushed.versionVector.entries where node != dealer {
            let known = stored?.versionVector[node] ?? 0
            if counter > known {
                return .refuse("its version vector claims writes of node \(node) up to \(counter); HQ has \(known) for this row")
            }
        }
        guard let stored else {
            if pushed.origin.node != dealer {
                return .refuse("it is new at HQ but names \(pushed.origin.node) as its origin, not this store")
            }
            return .merge(pushed, overruled: [])
        }
        // HQ decides a row's origin: the first creation it saw. A store may claim only itself,
        // and only when it created the same key unaware of HQ's row (a broadcast table, a
        // held row); its writes merge, the origin stays HQ's, and the store takes HQ's origin
        // at its next pull. A claim of any other node is refused.
        var pushed = pushed
        if pushed.origin != stored.origin {
            guard pushed.origin.node == dealer else {
                return .refuse("its origin (\(pushed.origin.node)) is not the row's origin at HQ (\(stored.origin.node))")
            }
            pushed.origin = stored.origin
        }

        // Ownership is access control: a column owned by HQ, or by the store that created the
        // row, keeps HQ's value whatever another store writes. Only writes HQ has not seen
        // count; old ones are already part of HQ's history.
        let overruled = pushed.columns.keys.filter { column in
            !mayWrite(column, origin: stored.origin)
                && pushed.writes(of: column).contains { $0.dot.node == dealer && !stored.versionVector.covers($0.dot) }
        }.sorted()
        guard !overruled.isEmpty else { return .merge(pushed, overruled: []) }
        return .merge(pushed.removingColumns(Set(overruled)), overruled: overruled)
    }

    private func mayWrite(_ column: String, origin: RowOrigin) -> Bool {
        switch spec.policy.owners[column] {
        case nil: true
        case .hq: false
        case .origin: origin.node == dealer
        }
    }
}
