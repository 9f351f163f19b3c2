import SyncCore

/// What SyncCapture needs to know about a store: read from the agent's config file by the
/// command line (see `dealersync init --help`), passed in as a plain value.
public struct CaptureSettings: Hashable, Sendable {
    /// The DMS SQLite file.
    public var databasePath: String
    /// This store's node id, issued by HQ (`hq add-dealer`).
    public var node: String
    /// The longest the agent holds the DMS write lock in one transaction, in milliseconds.
    /// Snapshot chunks and apply chunks shrink to stay under it.
    public var maxLockMillis: Int
    /// How long to wait for the DMS to release its lock before giving up a step (SQLITE_BUSY).
    public var busyTimeoutMillis: Int
    /// Rows per pushed batch.
    public var batchRows: Int
    /// The fleet's key for `hashed` columns (`hash_key_file`, docs/PRIVACY.md); nil until a
    /// schema hashes a column.
    public var hashKey: ColumnHashKey?

    public init(
        databasePath: String, node: String, maxLockMillis: Int = 200, busyTimeoutMillis: Int = 5_000, batchRows: Int = 5_000,
        hashKey: ColumnHashKey? = nil
    ) {
        self.hashKey = hashKey
        self.databasePath = databasePath
        self.node = node
        self.maxLockMillis = maxLockMillis
        self.busyTimeoutMillis = busyTimeoutMillis
        self.batchRows = batchRows
    }
}
