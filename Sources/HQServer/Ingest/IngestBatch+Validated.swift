import SyncCore

extension IngestBatch {
    /// A dealer's decoded batch as a push hands it to the store: every row checked by
    /// `RowValidator` against `schema` with HQ's clock at `receivedAtMillis` (table and
    /// direction, routing column, clock readings ahead of HQ's, `up` keys), the refused ones
    /// as dead letters. `PushController` builds its batches with it; in-process callers (the
    /// retention benchmark) use it to set the arrival time, so simulated days pass.
    public init(
        dealer: NodeID, firstSequence: UInt64, lastSequence: UInt64, sha256: String, compressedBytes: Int, versions: [RowVersion],
        schema: SyncSchema, limits: HQLimits, receivedAtMillis: Int64, clockSkewMillis: Int64?
    ) {
        let validator = RowValidator(schema: schema, nowMillis: receivedAtMillis, maxClockAheadMillis: Int64(limits.maxClockAheadMillis))
        var accepted: [AcceptedRow] = []
        accepted.reserveCapacity(versions.count)
        var dead: [DeadLetter] = []
        for (index, row) in versions.enumerated() {
            switch validator.check(row, index: index, from: dealer) {
            case .accepted(let row): accepted.append(row)
            case .dead(let letter): dead.append(letter)
            }
        }
        self.init(
            dealer: dealer, firstSequence: firstSequence, lastSequence: lastSequence, sha256: sha256, compressedBytes: compressedBytes,
            rows: accepted, deadLetters: dead, receivedAtMillis: receivedAtMillis, clockSkewMillis: clockSkewMillis,
            maxRowBytes: limits.maxRowBytes)
    }
}
