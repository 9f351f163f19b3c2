import Foundation
import GRDB
import SyncCore

/// The dealer's DMS SQLite file, as dealersync uses it. Every SQL statement that touches a
/// DMS database runs through this type and only inside its `read`/`write` closures.
///
/// The connection waits politely on SQLITE_BUSY (the DMS writes at any time), commits with
/// `synchronous=FULL`, leaves the DMS's journal mode as the DMS set it, and keeps foreign
/// keys off: remote rows are applied parents first, and an orphan routed ahead of its
/// parent must not stall the sync.
public final class DealerDatabase: Sendable {
    public let settings: CaptureSettings
    public let node: NodeID
    let queue: DatabaseQueue

    public init(settings: CaptureSettings) throws {
        self.settings = settings
        do {
            node = try NodeID(settings.node)
        } catch let error as SyncCoreError {
            throw CaptureError(.otherNode, "node id '\(settings.node)' is not valid: \(error.message)", hint: error.hint)
        }
        guard FileManager.default.fileExists(atPath: settings.databasePath) else {
            throw CaptureError(
                .databaseUnavailable, "the DMS database \(settings.databasePath) does not exist",
                hint: "set `database` in the agent config to the DMS's SQLite file")
        }
        var config = Configuration()
        config.foreignKeysEnabled = false
        // SQLite's own busy timeout backs off to 100 ms sleeps; against a DMS committing
        // many times a second the agent then loses most retries and a cycle waits about a
        // second for the lock. Retrying every 2 ms takes the lock between two DMS commits.
        let busyTries = max(1, settings.busyTimeoutMillis / 2)
        config.busyMode = .callback { tries in
            guard tries < busyTries else { return false }
            usleep(2_000)
            return true
        }
        config.label = "dealersync"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // What the agent deletes (an erased row, acknowledged batches, held rows) is
            // overwritten in the file, not only unlinked (docs/PRIVACY.md).
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        do {
            queue = try DatabaseQueue(path: settings.databasePath, configuration: config)
        } catch let error as DatabaseError {
            throw CaptureError(
                .databaseUnavailable, "cannot open the DMS database \(settings.databasePath): \(error.message ?? "\(error.resultCode)")",
                hint: "check the path and that the dealersync user may read and write it")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T { try queue.read(body) }
    func write<T>(_ body: (Database) throws -> T) throws -> T { try queue.write(body) }

    /// `PRAGMA data_version`: changes when another connection (the DMS) commits. The agent
    /// polls it to push promptly after a DMS write.
    public func dataVersion() throws -> Int64 {
        try queue.writeWithoutTransaction { db in try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
    }

    /// The installed schema's node id, or nil when `init` has not run.
    public func installedNode() throws -> String? {
        try read { db in
            guard try SyncTables.isInstalled(db) else { return nil }
            return try SyncTables.meta(db, .node).flatMap { String.fromDatabaseValue($0) }
        }
    }

    func requireInstalled(_ db: Database) throws {
        guard try SyncTables.isInstalled(db) else {
            throw CaptureError(
                .notInitialized, "dealersync is not set up in \(settings.databasePath)",
                hint: "run `dealersync init --config <agent.yaml>` first")
        }
        // A DMS file copied from another store carries that store's node id and counters:
        // syncing it as this node would give its rows a second origin.
        if let installed = try SyncTables.meta(db, .node).flatMap(String.fromDatabaseValue), installed != node.rawValue {
            throw CaptureError(
                .otherNode, "the DMS file \(settings.databasePath) is set up as node \(installed), not \(node.rawValue): copied from another store?",
                hint: "point `database` at this store's own DMS file, or fix `node_id`; to make this file this store's, run `dealersync init --remove` and `dealersync init`")
        }
    }
}
