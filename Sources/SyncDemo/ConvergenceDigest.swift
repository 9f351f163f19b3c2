import HQServer
import SyncCapture
import SyncCore

/// Compares what a store holds with HQ's versions of the same rows, each side through the
/// one canonical encoding of `SyncedDataDigest`. Equal digests mean the store has converged
/// with HQ on the rows it holds.
public enum ConvergenceDigest {
    public struct Pair: Sendable {
        public var store: String
        public var hq: String
        /// Live rows at the store.
        public var rows: Int
        public var converged: Bool { store == hq }
    }

    public static func compare(_ database: DealerDatabase, with hq: SQLiteSyncStore, schema: SyncSchema) async throws -> Pair {
        var local: [(version: RowVersion, key: RowKey?)] = []
        var remote: [(version: RowVersion, key: RowKey?)] = []
        for version in try database.allVersions(asSent: true) {
            local.append((version, nil))
            if let hqVersion = try await hq.rowVersion(table: version.table, key: version.key, dealer: database.node, schema: schema) {
                remote.append((hqVersion, version.key))
            }
        }
        let store = SyncedDataDigest(local, schema: schema)
        return Pair(store: store.sha256, hq: SyncedDataDigest(remote, schema: schema).sha256, rows: store.rows)
    }
}
