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

    public init(maxRows: Int = 100_000, maxColumnsPerRow: Int = 2_000, maxWritesPerColumn: Int = 1_000) {
        self.maxRows = maxRows
        self.maxColumnsPerRow = maxColumnsPerRow
        self.maxWritesPerColumn = maxWritesPerColumn
    }
}
