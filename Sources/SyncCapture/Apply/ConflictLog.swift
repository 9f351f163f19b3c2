import Foundation
import GRDB
import SyncCore

/// `_dealersync_conflicts`: every conflict this store decided, with both values, once.
enum ConflictLog {
    static func record(_ conflict: Conflict, db: Database, wallMillis: Int64) throws {
        func encode(_ values: [SQLValue]) -> Data {
            var writer = ByteWriter()
            writer.writeVarint(values.count)
            for value in values { value.write(to: &writer) }
            return Data(writer.bytes)
        }
        try db.execute(
            sql: """
                INSERT INTO _dealersync_conflicts
                    (identity, table_name, row_key, column_name, reason, winner, winning_value, losers, losing_values, decided_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(identity) DO NOTHING
                """,
            arguments: [
                conflict.identity, conflict.table, Data(conflict.key.bytes), conflict.column, conflict.reason.rawValue,
                conflict.winner.description, conflict.winningValue.map { encode([$0]) },
                conflict.losers.map(\.description).joined(separator: ","), encode(conflict.losingValues), wallMillis,
            ])
    }
}
