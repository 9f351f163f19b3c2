import Foundation
import GRDB
import SyncCore

/// What adopting a schema HQ published did (docs/ROLLOUT.md).
public struct SchemaUpgradeReport: Hashable, Sendable {
    public var fromVersion: UInt64
    public var toVersion: UInt64
    /// Tables the store syncs from now on.
    public var addedTables: [String]
    /// Rows of newly captured tables queued for HQ.
    public var snapshotRows: Int
    /// Tables of the new version the DMS has not created yet (their rows wait).
    public var waitingTables: [String]
    /// The pull cursor was cleared: a table the store now pulls may have rows at HQ from
    /// before, and they come with the next pulls (rows already here apply as no-ops).
    public var pullRestarted: Bool
}

extension DealerDatabase {
    /// The version of the sync schema installed here; nil before `init`.
    public func installedSchemaVersion() throws -> UInt64? {
        try read { db in
            guard try SyncTables.isInstalled(db) else { return nil }
            return try SyncTables.meta(db, .schemaVersion).flatMap(Int64.fromDatabaseValue).map { UInt64($0) }
        }
    }

    /// The sync schema installed here; nil before `init`.
    public func installedSchema() throws -> SyncSchema? {
        try read { db in
            guard try SyncTables.isInstalled(db) else { return nil }
            return try SyncTables.installedSchema(db)
        }
    }

    /// Moves this store to `schema`, a newer version HQ assigns: new tables are registered
    /// and their rows snapshotted, triggers rebuilt for changed ones, rows held for tables
    /// the DMS now has are retried by the next pull, and the version stamped on batches from
    /// now on is the new one. Batches already in the outbox keep the version they were
    /// written under, which HQ still merges them by.
    ///
    /// Refused (nothing changes): an older version than the one installed (a store never
    /// goes back), a version that drops a table (that takes `init --remove` at the store),
    /// and a schema the DMS cannot sync (a `both` table keyed by a rowid, and so on).
    public func upgradeSchema(to schema: SyncSchema, progress: (CaptureProgress) -> Void = { _ in }) throws -> SchemaUpgradeReport? {
        let current = try read { db -> SyncSchema in
            try requireInstalled(db)
            return try SyncTables.installedSchema(db)
        }
        guard schema.version != current.version else { return nil }
        guard schema.version > current.version else {
            throw CaptureError(
                .schemaMismatch, "HQ assigns sync schema version \(schema.version), older than version \(current.version) installed here",
                hint: "a store never goes back to an older schema: publish version \(current.version) or newer to this store's group at HQ")
        }
        let names = Set(schema.tables.map(\.name))
        if let dropped = current.tables.first(where: { !names.contains($0.name) }) {
            throw CaptureError(
                .schemaMismatch, "sync schema version \(schema.version) drops table '\(dropped.name)', which version \(current.version) syncs",
                hint: "keep the table in the new version; removing a table takes `dealersync init --remove` and `init` at the store")
        }
        let oldPulls = Set(current.tables.filter(\.direction.dealerPulls).map(\.name))
        let newlyPulled = schema.tables.filter { $0.direction.dealerPulls && !oldPulls.contains($0.name) }
        let oldNames = Set(current.tables.map(\.name))
        let report = try install(schema: schema, progress: progress)
        if !newlyPulled.isEmpty {
            try write { db in try SyncTables.setMeta(db, .pullCursor, nil) }
        }
        return SchemaUpgradeReport(
            fromVersion: current.version, toVersion: schema.version,
            addedTables: schema.tables.map(\.name).filter { !oldNames.contains($0) && !report.waitingTables.contains($0) },
            snapshotRows: report.snapshotRows, waitingTables: report.waitingTables, pullRestarted: !newlyPulled.isEmpty)
    }
}
