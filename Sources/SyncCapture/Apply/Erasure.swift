import Foundation
import GRDB
import SyncCore

/// A row erased at HQ on a data subject's request (docs/PRIVACY.md). HQ names it in the pull
/// answer (`X-Dealersync-Erased`); the tombstone deletes the DMS row as any delete does, and
/// this store then drops its own copies of the row's values and scrubs the file.
enum Erasure {
    /// The row a version is of, to find it again after the page is reordered.
    static func identity(_ version: RowVersion) -> [UInt8] {
        Array(version.table.utf8) + [0] + version.key.bytes
    }

    /// Drops the conflict records and held rows of the row; when the row or any of those was
    /// here, marks the file for a scrub in the same transaction, so a crash before the scrub
    /// leaves it to the next pull. Returns whether anything was here.
    @discardableResult
    static func forget(_ version: RowVersion, db: Database, rowWasHere: Bool) throws -> Bool {
        let key = Data(version.key.bytes)
        try db.execute(sql: "DELETE FROM _dealersync_conflicts WHERE table_name = ? AND row_key = ?", arguments: [version.table, key])
        var dropped = db.changesCount
        try db.execute(sql: "DELETE FROM _dealersync_held WHERE table_name = ? AND row_key = ?", arguments: [version.table, key])
        dropped += db.changesCount
        guard rowWasHere || dropped > 0 else { return false }
        try SyncTables.setMeta(db, .scrubPending, 1)
        return true
    }
}

extension DealerDatabase {
    /// Rewrites the DMS file without free space (`VACUUM`) and empties its WAL, so values
    /// of an erased row that the DMS's own earlier writes left in freed pages are gone
    /// too; clears the mark once both succeeded. The agent runs it before each pull, so a
    /// pull past an erasure (HQ's confirmation) comes only after the scrub. The DMS waits
    /// while the file is rewritten (seconds for a file of a few hundred MB); erasures are rare.
    public func scrubErasedRows() throws {
        let pending = try read { db in try SyncTables.meta(db, .scrubPending).flatMap(Int64.fromDatabaseValue) ?? 0 }
        guard pending != 0 else { return }
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            let result = try db.checkpoint(.truncate)
            guard result.walFrameCount == 0 || result.checkpointedFrameCount == result.walFrameCount else {
                throw CaptureError(
                    .databaseUnavailable, "the DMS database's WAL could not be emptied after an erasure (a reader kept it)",
                    hint: "nothing to do: the scrub is tried again at the next pull")
            }
            try SyncTables.setMeta(db, .scrubPending, nil)
        }
    }
}
