import Foundation
import GRDB
import SyncCore

/// Finds the moments capture may have missed DMS writes, cheaply enough for every cycle.
///
/// Real DMS upgrades rebuild a table to alter it (`CREATE TABLE new_x`, copy, `DROP TABLE
/// x`, `ALTER TABLE new_x RENAME TO x`: Django, Rails, Alembic batch mode, Prisma), and the
/// DROP takes our triggers with it, whether the new table's shape changed or not. So a
/// table's shape is not enough: its triggers must be there, exactly as generated, and the
/// table must be the same b-tree (`rootpage`) as when they were checked last.
///
/// Fast path: `PRAGMA schema_version` rises on every CREATE, DROP or ALTER in the file, so
/// when it equals the value stored after the last full check, and no table awaits a
/// reconcile, nothing can have changed (one read, a few µs; BENCHMARKS.md).
enum CaptureCheck {
    /// The DMS schema cookie, stored after each full check.

    static func schemaCookie(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
    }

    /// True when nothing in the DMS schema changed since the last full check and every
    /// table is captured: the fast path. False also before this version's migrations ran.
    static func nothingChanged(_ db: Database) throws -> Bool {
        guard try SyncTables.isMigrated(db) else { return false }
        let stored = try SyncTables.meta(db, .dmsSchemaCookie).flatMap { Int64.fromDatabaseValue($0) }
        guard stored == (try schemaCookie(db)) else { return false }
        return try Int.fetchOne(db, sql: "SELECT count(*) FROM _dealersync_tables WHERE capture_state <> 'ok'") == 0
    }

    /// Why capture of a captured table may have missed writes, or nil when its triggers are
    /// all there, as `TriggerBuilder` generates them, on the same b-tree as last checked.
    static func gap(_ db: Database, _ registration: TableRegistration, shape: TableShape, storedRootPage: Int64?) throws -> String? {
        let installed = Dictionary(
            try Row.fetchAll(
                db, sql: "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?", arguments: [registration.name]
            ).map { (($0["name"] as String), (($0["sql"] as String?) ?? "")) },
            uniquingKeysWith: { first, _ in first })
        let builder = registration.builder(for: shape)
        // With a new shape (a column or a UNIQUE index added in place) the triggers are
        // rebuilt anyway; only the four row triggers must have survived.
        let sameShape = shape.signature == registration.signature
        let expected = sameShape ? builder.triggerNames : builder.rowTriggerNames
        let missing = expected.filter { installed[$0] == nil }
        if !missing.isEmpty {
            return missing.count >= builder.rowTriggerNames.count
                ? "its capture triggers are gone (the table was dropped and created again, as DMS migrations rebuild tables, or they were dropped by hand)"
                : "capture triggers \(missing.joined(separator: ", ")) are gone"
        }
        // With the shape unchanged the triggers must be ours to the byte.
        if sameShape {
            let changed = zip(builder.triggerNames, builder.createTriggers).filter { name, sql in
                installed[name].map(normalized) != normalized(sql)
            }
            if let first = changed.first { return "capture trigger \(first.0) was changed by something other than dealersync" }
        }
        if let storedRootPage, storedRootPage != (try rootPage(db, registration.name)) {
            return "the table was rebuilt (it moved to another b-tree page; a VACUUM moves it too)"
        }
        return nil
    }

    static func rootPage(_ db: Database, _ table: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = ?", arguments: [table])
    }

    private static func normalized(_ sql: String) -> String { sql.trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// One captured table as the last check left it, for `status` and the agent's log.
public struct TableCapture: Hashable, Sendable, Codable {
    public enum State: String, Hashable, Sendable, Codable {
        /// Triggers in place since the last reconcile.
        case ok
        /// Triggers restored; rows are being compared with what was last captured.
        case reconciling
        /// Triggers missing or not ours, and the agent has not repaired them yet (it is
        /// stopped, or the table is gone).
        case off
    }

    public var table: String
    public var state: State
    /// Why capture was or may have been off.
    public var reason: String?
    public var sinceMillis: Int64?
    /// Rows compared so far and rows in the table, while reconciling.
    public var done: Int
    public var total: Int
    /// Changes found by the reconcile so far (rows changed, added or deleted unseen).
    public var found: Int
    /// The last finished repair, one line.
    public var lastRepair: String?
}
