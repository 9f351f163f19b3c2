import Foundation
import GRDB
import SyncCore

extension SQLiteSyncStore {
    /// The merged versions a digest covers, each with the key its dealer knows it by.
    ///
    /// `dealer` nil: every row, under the key HQ stores it by. Otherwise the rows that dealer
    /// holds when converged: its own `up` rows (HQ's dealer-id key prefix removed), rows of
    /// pulled tables it holds (pushed or routed to it), and every row of broadcast tables.
    public func syncedVersions(dealer: NodeID?, schema: SyncSchema) async throws -> [(version: RowVersion, key: RowKey?)] {
        try await pool.read { db in
            var held = Set<String>()
            if let dealer {
                let rows = try Row.fetchCursor(db, sql: "SELECT table_name, row_key FROM holders WHERE dealer = ?", arguments: [dealer.rawValue])
                while let row = try rows.next() {
                    held.insert(Self.holderKey(row["table_name"], row["row_key"]))
                }
            }
            var result: [(version: RowVersion, key: RowKey?)] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT table_name, row_key, version FROM rows ORDER BY table_name, row_key")
            while let row = try rows.next() {
                let table: String = row["table_name"]
                let keyData: Data = row["row_key"]
                guard let dealer else {
                    result.append((try RowVersion(canonicalBytes: Array(row["version"] as Data)), nil))
                    continue
                }
                let spec = schema.table(named: table)
                if spec?.direction == .up {
                    let stored = try RowKey(bytes: Array(keyData))
                    guard stored.values.first == .text(dealer.rawValue) else { continue }
                    let version = try RowVersion(canonicalBytes: Array(row["version"] as Data))
                    result.append((version, RowKey(Array(stored.values.dropFirst()))))
                } else if spec?.broadcast == true || held.contains(Self.holderKey(table, keyData)) {
                    result.append((try RowVersion(canonicalBytes: Array(row["version"] as Data)), nil))
                }
            }
            return result
        }
    }

    private static func holderKey(_ table: String, _ key: Data) -> String { table + "\u{0}" + key.base64EncodedString() }
}
