import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif
import SyncCore

extension DealerDatabase {
    /// What the agent tells HQ about this store on every pull (`StoreHealthReport`): counts
    /// read in one short read transaction, and free disk where the DMS file lives.
    public func healthReport(agentVersion: String, lastError: String?) throws -> StoreHealthReport {
        let counts = try read { db -> (pending: Int, outbox: Int, held: Int, schema: Int64?) in
            var pending = 0
            for registration in try TableRegistration.all(db) where try db.tableExists(registration.logTable) {
                pending += try Int.fetchOne(db, sql: "SELECT count(*) FROM \(registration.logTable)") ?? 0
            }
            let outbox = try Int.fetchOne(db, sql: "SELECT coalesce(sum(row_count), 0) FROM _dealersync_outbox") ?? 0
            let held = try db.tableExists("_dealersync_held") ? try Int.fetchOne(db, sql: "SELECT count(*) FROM _dealersync_held") ?? 0 : 0
            return (pending, outbox, held, try SyncTables.meta(db, .schemaVersion).flatMap(Int64.fromDatabaseValue))
        }
        return StoreHealthReport(
            agentVersion: agentVersion, pendingChanges: counts.pending, outboxRows: counts.outbox, heldRows: counts.held,
            freeDiskMB: Self.freeMegabytes(near: settings.databasePath), lastError: lastError, schemaVersion: counts.schema.map { UInt64($0) })
    }

    /// Free space for an unprivileged writer on the file system holding `path`, in MiB.
    static func freeMegabytes(near path: String) -> Int? {
        var stats = statvfs()
        let directory = (path as NSString).deletingLastPathComponent
        guard statvfs(directory.isEmpty ? "." : directory, &stats) == 0 else { return nil }
        return Int(UInt64(stats.f_bavail) * UInt64(stats.f_frsize) / (1 << 20))
    }
}
