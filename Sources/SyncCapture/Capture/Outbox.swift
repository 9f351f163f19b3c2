import Foundation
import GRDB
import SyncCore

/// A built batch waiting in `_dealersync_outbox` for HQ's acknowledgement.
public struct OutboxEntry: Hashable, Sendable {
    public var id: Int64
    public var firstSequence: UInt64
    public var lastSequence: UInt64
    public var rowCount: Int
    /// The gzip-compressed wire form, sent as is on every retry.
    public var body: [UInt8]
    public var sha256: String
    public var createdAtMillis: Int64
}

extension DealerDatabase {
    /// Turns pending DMS changes into one outbox batch of at most `settings.batchRows` rows,
    /// in one short transaction: the change-log entries are consumed, the clock metadata
    /// updated and the batch persisted together, so a crash loses or repeats nothing.
    /// Returns the number of rows stamped (0 when nothing was pending).
    @discardableResult
    public func stampPendingChanges(wallMillis: Int64) throws -> Int {
        try write { db in
            try requireInstalled(db)
            let transaction = try SyncTransaction(db, node: node, wallMillis: wallMillis, hashKey: settings.hashKey)
            try transaction.stampPending(limit: settings.batchRows)
            let count = transaction.stamped.count
            try transaction.finish()
            return count
        }
    }

    /// Outbox batches, oldest first.
    public func outbox(limit: Int = 100) throws -> [OutboxEntry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM _dealersync_outbox ORDER BY id LIMIT ?", arguments: [limit]).map { row in
                OutboxEntry(
                    id: row["id"], firstSequence: UInt64(row["first_sequence"] as Int64),
                    lastSequence: UInt64(row["last_sequence"] as Int64), rowCount: row["row_count"],
                    body: Array(row["body"] as Data), sha256: row["sha256"], createdAtMillis: row["created_at"])
            }
        }
    }

    /// Deletes exactly the acknowledged batch. Changes made since are in later batches or
    /// still in the change log, and stay.
    public func acknowledge(_ entry: OutboxEntry) throws {
        try write { db in
            try db.execute(
                sql: "DELETE FROM _dealersync_outbox WHERE id = ? AND sha256 = ?", arguments: [entry.id, entry.sha256])
        }
    }

    /// Rows captured but not yet stamped into a batch.
    public func pendingChangeCount() throws -> Int {
        try read { db in
            try TableRegistration.all(db).reduce(0) { total, registration in
                guard try db.tableExists(registration.logTable) else { return total }
                return total + (try Int.fetchOne(db, sql: "SELECT count(*) FROM \(registration.logTable)") ?? 0)
            }
        }
    }
}
