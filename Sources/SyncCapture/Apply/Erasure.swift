import Foundation
import GRDB
import SyncCore

/// A row erased at HQ on a data subject's request (docs/PRIVACY.md). HQ sends it as a
/// tombstone with no column values at all, which no ordinary delete is (a delete keeps
/// its column writes): the apply deletes the DMS row as for any delete, and this store
/// then drops its own copies of the row's values and scrubs the file.
enum Erasure {
    static func isErasure(_ version: RowVersion) -> Bool {
        version.columns.isEmpty && !version.liveness.contains(where: \.alive)
    }

    /// Drops the conflict records and held rows of the row, and marks the file for a scrub
    /// in the same transaction, so a crash before the scrub leaves it to the next apply.
    static func forget(_ version: RowVersion, db: Database) throws {
        let key = Data(version.key.bytes)
        try db.execute(sql: "DELETE FROM _dealersync_conflicts WHERE table_name = ? AND row_key = ?", arguments: [version.table, key])
        try db.execute(sql: "DELETE FROM _dealersync_held WHERE table_name = ? AND row_key = ?", arguments: [version.table, key])
        try SyncTables.setMeta(db, "scrub_pending", 1)
    }
}

extension DealerDatabase {
    /// Rewrites the DMS file without free space (`VACUUM`) and empties its WAL, so values
    /// of an erased row that the DMS's own earlier writes left in freed pages are gone
    /// too; clears the mark once both succeeded. The agent runs it before each pull, so a
    /// pull past an erasure (HQ's confirmation) comes only after the scrub. The DMS waits
    /// while the file is rewritten (seconds for a file of a few hundred MB); erasures are rare.
    public func scrubErasedRows() throws {
        let pending = try read { db in try SyncTables.meta(db, "scrub_pending").flatMap(Int64.fromDatabaseValue) ?? 0 }
        guard pending != 0 else { return }
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            let result = try db.checkpoint(.truncate)
            guard result.walFrameCount == 0 || result.checkpointedFrameCount == result.walFrameCount else {
                throw CaptureError(
                    .databaseUnavailable, "the DMS database's WAL could not be emptied after an erasure (a reader kept it)",
                    hint: "nothing to do: the scrub is tried again at the next pull")
            }
            try SyncTables.setMeta(db, "scrub_pending", nil)
        }
    }
}
