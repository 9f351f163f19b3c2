/// A canonical digest of synced data: a SHA-256 over each live row's table, key and shown
/// values, independent of the order rows are given in and of the node that holds them.
///
/// Dealer and HQ compute it with this one function over their own versions of the same rows
/// (HQ keys `up` rows by dealer id + local key; callers pass the key the dealer knows), so
/// equal digests mean equal data. Deleted rows are left out: a tombstone and a row never
/// seen hold the same data, and HQ may drop tombstones once every holder has them.
public struct SyncedDataDigest: Sendable, Hashable, Codable {
    /// Lower-case hex SHA-256.
    public var sha256: String
    /// Live rows covered.
    public var rows: Int

    public init(sha256: String, rows: Int) {
        self.sha256 = sha256
        self.rows = rows
    }

    /// The digest of `versions`, each under `key` (nil: the version's own key), resolved
    /// with the merge policy of its table in `schema`.
    public init(_ versions: [(version: RowVersion, key: RowKey?)], schema: SyncSchema) {
        var encoded: [[UInt8]] = []
        for (version, key) in versions {
            let policy = schema.table(named: version.table)?.policy ?? .lastWriterWins
            if let bytes = Self.canonicalRow(version, key: key ?? version.key, policy: policy) { encoded.append(bytes) }
        }
        self.init(sha256: Self.sha256(of: encoded), rows: encoded.count)
    }

    /// One row as the digest sees it: table, key, then each shown column and value in name
    /// order; nil for a deleted row.
    public static func canonicalRow(_ version: RowVersion, key: RowKey, policy: MergePolicy) -> [UInt8]? {
        guard version.isAlive(policy: policy) else { return nil }
        var bytes = Array(version.table.utf8) + [0] + key.bytes + [1]
        for (column, value) in version.values(policy: policy).sorted(by: { $0.key < $1.key }) {
            bytes += Array(column.utf8) + [0] + RowKey([value]).bytes
        }
        return bytes
    }

    /// SHA-256 over length-prefixed rows in byte order, so the order rows arrive in does not matter.
    public static func sha256(of rows: [[UInt8]]) -> String {
        var all: [UInt8] = []
        for row in rows.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            all += Array(String(row.count).utf8) + [0x3A] + row
        }
        return BodyChecksum.sha256Hex(all)
    }
}
