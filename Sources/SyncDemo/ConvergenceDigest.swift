import HQServer
import SyncCapture
import SyncCore

/// Compares what a store holds with HQ's versions of the same rows: a SHA-256 over each
/// row's table, key, existence and shown values, once as the store has it and once as HQ
/// has it. Equal digests mean the store has converged with HQ.
public enum ConvergenceDigest {
    public struct Pair: Sendable {
        public var store: String
        public var hq: String
        public var rows: Int
        public var converged: Bool { store == hq }
    }

    public static func compare(_ database: DealerDatabase, with hq: SQLiteSyncStore, schema: SyncSchema) async throws -> Pair {
        var local: [[UInt8]] = []
        var remote: [[UInt8]] = []
        let versions = try database.allVersions()
        for version in versions {
            let policy = schema.table(named: version.table)?.policy ?? .lastWriterWins
            local.append(resolved(version, key: version.key, policy))
            if let hqVersion = try await hq.rowVersion(table: version.table, key: version.key, dealer: database.node, schema: schema) {
                remote.append(resolved(hqVersion, key: version.key, policy))
            } else {
                remote.append(Array("missing at HQ".utf8))
            }
        }
        return Pair(store: digest(local), hq: digest(remote), rows: versions.count)
    }

    static func resolved(_ version: RowVersion, key: RowKey, _ policy: MergePolicy) -> [UInt8] {
        var bytes = Array(version.table.utf8) + [0] + key.bytes
        guard version.isAlive(policy: policy) else { return bytes + [0] }
        bytes.append(1)
        for (column, value) in version.values(policy: policy).sorted(by: { $0.key < $1.key }) {
            bytes += Array(column.utf8) + [0] + RowKey([value]).bytes
        }
        return bytes
    }

    static func digest(_ rows: [[UInt8]]) -> String {
        var all: [UInt8] = []
        for row in rows.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            all += Array(String(row.count).utf8) + [0x3A] + row
        }
        return BodyChecksum.sha256Hex(all)
    }
}
