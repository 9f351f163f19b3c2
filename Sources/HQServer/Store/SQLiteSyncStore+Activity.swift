import Foundation
import GRDB
import SyncCore

/// What the console shows beyond `status`: a dealer's recent activity, the fleet's push
/// rates, and the status history a `PeriodicService` records every 5 minutes.
extension SQLiteSyncStore {
    /// The dealer's last `limit` batches, dead letters and conflicts, and its history since
    /// `sinceMillis`.
    public func dealerActivity(dealer: String, limit: Int, sinceMillis: Int64) async throws -> DealerActivity {
        try await pool.read { db in
            DealerActivity(
                batches: try Row.fetchAll(
                    db, sql: "SELECT dealer, first_seq, last_seq, row_count, compressed_bytes, at_ms FROM batches WHERE dealer = ? ORDER BY at_ms DESC LIMIT ?",
                    arguments: [dealer, limit]
                ).map {
                    .init(
                        id: "\($0["dealer"] as String):\($0["first_seq"] as Int64)-\($0["last_seq"] as Int64)", rows: $0["row_count"],
                        compressedBytes: $0["compressed_bytes"], atMillis: $0["at_ms"])
                },
                deadLetters: try Row.fetchAll(
                    db, sql: "SELECT batch, row_index, table_name, reason, at_ms FROM dead_letters WHERE dealer = ? ORDER BY id DESC LIMIT ?",
                    arguments: [dealer, limit]
                ).map { .init(batch: $0["batch"], row: $0["row_index"], table: $0["table_name"], reason: $0["reason"], atMillis: $0["at_ms"]) },
                conflicts: try Row.fetchAll(
                    db,
                    sql: """
                        SELECT table_name, column_name, reason, winner, losers, winning_value, losing_values, at_ms FROM conflicts
                        WHERE source = ? ORDER BY id DESC LIMIT ?
                        """,
                    arguments: [dealer, limit]
                ).map {
                    .init(
                        table: $0["table_name"], column: $0["column_name"], reason: $0["reason"], winner: $0["winner"], losers: $0["losers"],
                        winningValue: $0["winning_value"], losingValues: $0["losing_values"], atMillis: $0["at_ms"])
                },
                history: try Row.fetchAll(
                    db, sql: "SELECT at_ms, rows_pushed, backlog FROM status_history WHERE dealer = ? AND at_ms >= ? ORDER BY at_ms",
                    arguments: [dealer, sinceMillis]
                ).map { .init(atMillis: $0["at_ms"], rowsPushed: $0["rows_pushed"], backlog: $0["backlog"]) })
        }
    }

    /// Rows each dealer pushed since `sinceMillis` (dealers that pushed none are absent).
    public func rowsPushed(sinceMillis: Int64) async throws -> [String: Int] {
        try await pool.read { db in
            var rows: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT dealer, sum(row_count) AS n FROM batches WHERE at_ms >= ? GROUP BY dealer", arguments: [sinceMillis]) {
                rows[row["dealer"]] = row["n"]
            }
            return rows
        }
    }

    /// Records every dealer's backlog and rows pushed since the last point, and forgets
    /// points older than `keepMillis`.
    public func recordStatusHistory(schema: SyncSchema, atMillis: Int64, keepMillis: Int64 = 7 * 86_400_000) async throws {
        let dealers = try await status(schema: schema)
        try await pool.write { db in
            let since = try Int64.fetchOne(db, sql: "SELECT max(at_ms) FROM status_history") ?? (atMillis - 3_600_000)
            var pushed: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT dealer, sum(row_count) AS n FROM batches WHERE at_ms > ? GROUP BY dealer", arguments: [since]) {
                pushed[row["dealer"]] = row["n"]
            }
            for dealer in dealers where !dealer.revoked {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO status_history (dealer, at_ms, rows_pushed, backlog) VALUES (?, ?, ?, ?)",
                    arguments: [dealer.id, atMillis, pushed[dealer.id] ?? 0, dealer.backlog])
            }
            try db.execute(sql: "DELETE FROM status_history WHERE at_ms < ?", arguments: [atMillis - keepMillis])
        }
    }
}
