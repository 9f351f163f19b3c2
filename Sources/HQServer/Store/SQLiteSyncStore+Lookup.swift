import Foundation
import GRDB
import SyncCore

extension SQLiteSyncStore {
    /// HQ's current merged version of a row as `dealer` names it: for `up` tables HQ keys
    /// rows by (dealer id, local key…), so the dealer id is put in front. Nil when HQ does not
    /// have the row. Used by the demo and tests to compare a store with HQ.
    public func rowVersion(table: String, key: RowKey, dealer: NodeID, schema: SyncSchema) async throws -> RowVersion? {
        let storedKey = schema.table(named: table)?.direction == .up ? RowKey([.text(dealer.rawValue)] + key.values) : key
        let bytes: [UInt8]? = try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT version FROM rows WHERE table_name = ? AND row_key = ?",
                arguments: [table, Data(storedKey.bytes)]
            ).map { Array($0["version"] as Data) }
        }
        return try bytes.map { try RowVersion(canonicalBytes: $0) }
    }
}
