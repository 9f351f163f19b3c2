/// A dealer's push: the row versions built from capture-log entries `firstSequence` through
/// `lastSequence`. The sequence range is the batch id: HQ acknowledges it, and the dealer
/// deletes exactly those log entries.
///
/// The wire form is described in docs/WIRE-FORMAT.md and produced by `encoded()`; it is
/// canonical (one batch, one byte string) so that a replay has the same SHA-256.
public struct Batch: Hashable, Sendable {
    /// The version of the wire form this build writes and reads. Bump it on any change to
    /// the encoding, and add a golden fixture for the new version.
    public static let formatVersion: UInt64 = 1

    public var dealer: NodeID
    /// The version of the sync schema the rows were captured under.
    public var schemaVersion: UInt64
    public var firstSequence: UInt64
    public var lastSequence: UInt64
    public var rows: [RowVersion]

    public init(dealer: NodeID, schemaVersion: UInt64, firstSequence: UInt64, lastSequence: UInt64, rows: [RowVersion]) {
        self.dealer = dealer
        self.schemaVersion = schemaVersion
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.rows = rows
    }

    /// The batch id, as HQ and the agent name it in logs: `DLR-0421:1-250`.
    public var id: String { "\(dealer):\(firstSequence)-\(lastSequence)" }
}

/// Bounds the decoder enforces before it allocates, set by the receiver.
public struct BatchLimits: Hashable, Sendable {
    public var maxRows: Int
    public var maxColumnsPerRow: Int
    public var maxWritesPerColumn: Int
    /// Version-vector entries, existence writes and column writes of all rows together: the
    /// decoded work of one batch. Bytes alone do not bound it: a 416 KiB push of repeated
    /// small writes once decoded into 12 million column writes (841 MB at HQ).
    public var maxWrites: Int

    public init(
        maxRows: Int = 100_000, maxColumnsPerRow: Int = RowLimits.readable.maxColumns,
        maxWritesPerColumn: Int = RowLimits.readable.maxWritesPerColumn, maxWrites: Int = 2_000_000
    ) {
        self.maxRows = maxRows
        self.maxColumnsPerRow = maxColumnsPerRow
        self.maxWritesPerColumn = maxWritesPerColumn
        self.maxWrites = maxWrites
    }
}

/// The shape every reader of a row version accepts: the decoder of stored versions and of
/// pulled pages uses these bounds, so a version over them could be stored but never read
/// again. HQ checks each merged version against them before it commits (a merge can grow a
/// row past what either side sent: 2,000 columns from one push and one more from the next).
public struct RowLimits: Hashable, Sendable {
    public var maxKeyValues: Int
    public var maxColumns: Int
    public var maxWritesPerColumn: Int

    public static let readable = RowLimits(maxKeyValues: 64, maxColumns: 2_000, maxWritesPerColumn: 1_000)

    /// What makes `version` unreadable, naming counts (never values); nil when it fits.
    public func violation(of version: RowVersion) -> String? {
        if version.key.values.count > maxKeyValues {
            return "its key has \(version.key.values.count) values, over the \(maxKeyValues) every reader accepts"
        }
        if version.columns.count > maxColumns {
            return "it has \(version.columns.count) columns, over the \(maxColumns) every reader accepts"
        }
        if version.liveness.count > maxWritesPerColumn {
            return "it holds \(version.liveness.count) concurrent existence writes, over the \(maxWritesPerColumn) every reader accepts"
        }
        if let (column, writes) = version.columns.first(where: { $0.value.count > maxWritesPerColumn }) {
            return "column '\(column)' holds \(writes.count) concurrent writes, over the \(maxWritesPerColumn) every reader accepts"
        }
        return nil
    }
}
