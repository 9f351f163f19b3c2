/// What merging a remote version into the local one did.
public struct MergeResult: Hashable, Sendable {
    public enum Outcome: Hashable, Sendable {
        /// The row was unknown here; the remote version is taken as is.
        case inserted
        /// The remote version adds nothing (already seen).
        case unchanged
        /// The remote version strictly supersedes the local one.
        case tookRemote
        /// Concurrent versions were combined column by column.
        case merged
    }

    public var merged: RowVersion
    public var outcome: Outcome
    /// Conflicts in the merged version that the local version did not already hold: what
    /// this merge newly decided, for the conflict log.
    public var conflicts: [Conflict]

    public init(merged: RowVersion, outcome: Outcome, conflicts: [Conflict]) {
        self.merged = merged
        self.outcome = outcome
        self.conflicts = conflicts
    }
}

/// Merges a remote version of a row into the local one (the merge rule of DESIGN.md).
///
/// 1. Already seen (`remote ≤ local`) → unchanged; strictly newer (`local ≤ remote`) →
///    the remote version.
/// 2. Concurrent → per column, writes the other side has not seen survive; writes made on
///    both sides concurrently are kept together and `policy` decides which value shows:
///    the column owner's write, else the latest HLC, else the larger node id.
/// 3. The version vector is the pointwise maximum; the origin is the earliest creator;
///    a delete concurrent with an update is decided by `policy.deleteRule`.
///
/// The result does not depend on the order in which versions arrive: merging any set of
/// versions in any order gives the same bytes on every node.
public func merge(local: RowVersion?, remote: RowVersion, policy: MergePolicy) -> MergeResult {
    guard let local else {
        return MergeResult(merged: remote, outcome: .inserted, conflicts: remote.conflicts(policy: policy))
    }
    precondition(local.table == remote.table && local.key == remote.key, "merge of two different rows")

    var merged = local
    merged.versionVector = local.versionVector.merging(remote.versionVector)
    merged.origin = min(local.origin, remote.origin)
    merged.liveness = joinWrites(local.liveness, local.versionVector, remote.liveness, remote.versionVector)
    for (column, remoteWrites) in remote.columns {
        if let localWrites = local.columns[column] {
            merged.columns[column] = joinWrites(localWrites, local.versionVector, remoteWrites, remote.versionVector)
        } else {
            // Unknown here (a tombstone sent without values, a column added later): learn it.
            merged.columns[column] = remoteWrites
        }
    }

    if merged == local {
        return MergeResult(merged: local, outcome: .unchanged, conflicts: [])
    }
    let outcome: MergeResult.Outcome = merged == remote ? .tookRemote : .merged
    let known = Set(local.conflicts(policy: policy).map(\.identity))
    let conflicts = merged.conflicts(policy: policy).filter { !known.contains($0.identity) }
    return MergeResult(merged: merged, outcome: outcome, conflicts: conflicts)
}
