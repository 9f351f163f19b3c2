/// Two or more concurrent writes to one column (or to a row's existence) and how the merge
/// policy decided them. Derived from a merged `RowVersion`, so every node that holds the
/// same version reports the same conflicts.
public struct Conflict: Hashable, Sendable {
    public enum Reason: String, Hashable, Sendable {
        /// The column's owner (`hq` or the origin dealer) wrote it.
        case ownerWins = "owner-wins"
        /// The latest HLC won (node id breaks a tie).
        case lastWriterWins = "last-writer-wins"
        /// An update won over a concurrent delete; the row stays.
        case updateWinsOverDelete = "update-wins-over-delete"
        /// A delete won over a concurrent update; the row stays deleted.
        case deleteWinsOverUpdate = "delete-wins-over-update"
        /// The DMS file was restored from an older backup: HQ's newer version of the row
        /// replaced an edit made on the restored copy (kept here for re-entry).
        case restoredBackup = "restored-backup"
    }

    public var table: String
    public var key: RowKey
    /// The column, or nil for a conflict between a delete and an update of the row.
    public var column: String?
    public var reason: Reason
    public var winner: Dot
    public var losers: [Dot]
    /// For column conflicts: the winning and losing values, for the conflict log.
    public var winningValue: SQLValue?
    public var losingValues: [SQLValue]

    public init(
        table: String, key: RowKey, column: String?, reason: Reason, winner: Dot, losers: [Dot], winningValue: SQLValue?,
        losingValues: [SQLValue]
    ) {
        self.table = table
        self.key = key
        self.column = column
        self.reason = reason
        self.winner = winner
        self.losers = losers
        self.winningValue = winningValue
        self.losingValues = losingValues
    }

    /// A stable identity: the same conflict found twice (a replay, a second path through the
    /// network) is recognised and logged once.
    public var identity: String {
        "\(table)|\(key.bytes.map { String($0, radix: 16) }.joined(separator: "."))|\(column ?? "(row)")|\(([winner] + losers).map(\.description).joined(separator: ","))"
    }
}

extension RowVersion {
    /// The conflicts this version holds: columns whose concurrent writes carry different
    /// values, and a delete concurrent with an update.
    public func conflicts(policy: MergePolicy) -> [Conflict] {
        var found: [Conflict] = []
        let aliveStates = Set(liveness.map(\.alive))
        if aliveStates.count > 1 {
            let winner = policy.winner(of: liveness)
            found.append(
                Conflict(
                    table: table, key: key, column: nil,
                    reason: winner.alive ? .updateWinsOverDelete : .deleteWinsOverUpdate,
                    winner: winner.dot, losers: liveness.filter { $0.alive != winner.alive }.map(\.dot),
                    winningValue: nil, losingValues: []))
        }
        for column in columns.keys.sorted() {
            let writes = columns[column]!
            guard writes.count > 1, Set(writes.map(\.value)).count > 1 else { continue }
            let winner = policy.winner(of: writes, column: column, origin: origin)
            let losers = writes.filter { $0.dot != winner.dot }
            let ownerDecided =
                policy.isOwner(winner.dot.node, of: column, origin: origin)
                && losers.contains { !policy.isOwner($0.dot.node, of: column, origin: origin) }
            found.append(
                Conflict(
                    table: table, key: key, column: column,
                    reason: ownerDecided ? .ownerWins : .lastWriterWins,
                    winner: winner.dot, losers: losers.map(\.dot),
                    winningValue: winner.value, losingValues: losers.map(\.value)))
        }
        return found
    }
}
