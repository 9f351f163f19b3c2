import Foundation
import GRDB
import SyncCore

/// A synced table that cannot be captured or applied right now.
public struct TableProblem: Hashable, Sendable {
    public var table: String
    public var message: String
    public var hint: String
}

extension DealerDatabase {
    /// Checks each synced table against the live DMS schema, as the agent does every cycle,
    /// and repairs what it can without an operator:
    ///
    /// - a column added by a DMS upgrade gets a change bit and the triggers are rebuilt, so
    ///   the new column syncs from its next change on;
    /// - a table whose triggers are gone or not ours, or that was rebuilt (see
    ///   `CaptureCheck`), gets its triggers back and is marked for `reconcileCapture`, which
    ///   finds the writes made while capture was off;
    /// - a table the sync schema names that the DMS has just created is registered and
    ///   reconciled (every row in it is new here);
    /// - a table that was dropped or renamed, or whose key changed, is reported (and shown
    ///   by `status`); the others keep syncing.
    ///
    /// Takes the write lock only when the DMS schema changed since the last check.
    @discardableResult
    public func refreshCapture(nowMillis: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) throws -> [TableProblem] {
        if let problems = try read({ db -> [TableProblem]? in
            try requireInstalled(db)
            guard try CaptureCheck.nothingChanged(db) else { return nil }
            return try Self.storedProblems(db)
        }) {
            return problems
        }
        return try write { db in
            // A newer dealersync on an existing store adds its tables here, without a new `init`.
            try SyncTables.migrate(db)
            let schema = try SyncTables.installedSchema(db)
            var problems: [TableProblem] = []
            for var registration in try TableRegistration.all(db) {
                guard let spec = schema.table(named: registration.name) else { continue }
                var problem: TableProblem?
                if let shape = try TableShape.read(db, for: spec) {
                    let captured = spec.direction.dealerPushes
                    let state = try Row.fetchOne(
                        db, sql: "SELECT root_page, capture_state, capture_reason FROM _dealersync_tables WHERE id = ?",
                        arguments: [registration.id])
                    let wasOff = (state?["capture_state"] as String?) == "off"
                    var gap = captured ? try CaptureCheck.gap(db, registration, shape: shape, storedRootPage: state?["root_page"]) : nil
                    if wasOff, gap == nil { gap = state?["capture_reason"] }
                    if shape.signature != registration.signature || gap != nil {
                        do {
                            try Self.register(db, table: spec)
                        } catch let error as CaptureError {
                            problem = TableProblem(table: registration.name, message: error.message, hint: error.hint)
                        }
                    }
                    if problem == nil, let gap {
                        try Self.beginReconcile(db, registration.id, table: registration.name, reason: gap, nowMillis: nowMillis, keepSince: wasOff)
                    }
                    try db.execute(
                        sql: "UPDATE _dealersync_tables SET root_page = ? WHERE id = ?",
                        arguments: [try CaptureCheck.rootPage(db, registration.name), registration.id])
                } else {
                    problem = TableProblem(
                        table: registration.name,
                        message: "synced table '\(registration.name)' is no longer in the DMS database (dropped or renamed)",
                        hint: "restore the table, or update the sync schema and run `dealersync init` again")
                    // Writes to it cannot be captured; when it is back, it is reconciled.
                    try db.execute(
                        sql: """
                            UPDATE _dealersync_tables SET capture_state = 'off', capture_reason = 'the table was dropped or renamed',
                                capture_since = coalesce(capture_since, ?) WHERE id = ? AND capture_state <> 'off'
                            """,
                        arguments: [nowMillis, registration.id])
                }
                if let refreshed = try TableRegistration.named(db, registration.name) { registration = refreshed }
                if registration.problem != problem?.message {
                    registration.problem = problem?.message
                    try registration.save(db)
                }
                if let problem { problems.append(problem) }
            }
            // Tables the DMS did not have at `init` (a module installed later): every row in
            // them is new here, so the reconcile queues each one.
            for spec in schema.tables where try TableRegistration.named(db, spec.name) == nil {
                guard try TableShape.read(db, table: spec.name) != nil else { continue }
                do {
                    try Self.register(db, table: spec)
                    if spec.direction.dealerPushes, let registration = try TableRegistration.named(db, spec.name) {
                        try Self.beginReconcile(
                            db, registration.id, table: spec.name, reason: "the table was created in the DMS after init", nowMillis: nowMillis, keepSince: false)
                    }
                } catch let error as CaptureError {
                    problems.append(TableProblem(table: spec.name, message: error.message, hint: error.hint))
                }
            }
            try SyncTables.setMeta(db, .dmsSchemaCookie, try CaptureCheck.schemaCookie(db))
            return problems
        }
    }

    /// Marks a table for `reconcileCapture` from its first row. Its triggers are in place
    /// again (the caller just registered it), so from here on DMS writes are captured.
    static func beginReconcile(_ db: Database, _ id: Int64, table: String, reason: String, nowMillis: Int64, keepSince: Bool) throws {
        let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(quoted(table))") ?? 0
        try db.execute(
            sql: """
                UPDATE _dealersync_tables SET capture_state = 'reconcile', capture_reason = ?,
                    capture_since = CASE WHEN ? THEN coalesce(capture_since, ?) ELSE ? END,
                    reconcile_pass = 1, reconcile_after = NULL, reconcile_done = 0, reconcile_total = ?, reconcile_found = 0
                WHERE id = ?
                """,
            arguments: [reason, keepSince, nowMillis, nowMillis, total, id])
    }

    static func storedProblems(_ db: Database) throws -> [TableProblem] {
        try Row.fetchAll(db, sql: "SELECT name, problem FROM _dealersync_tables WHERE problem IS NOT NULL ORDER BY id").map { row in
            TableProblem(
                table: row["name"], message: row["problem"],
                hint: "restore the table, or update the sync schema and run `dealersync init` again")
        }
    }

    /// Each captured table's capture state as the agent's last check left it, and, when
    /// `live` is true, with the check run now (read-only) so that a stopped agent's store
    /// still shows a DMS migration that dropped triggers.
    public func captureStates(live: Bool = true) throws -> [TableCapture] {
        try read { db in
            guard try SyncTables.isInstalled(db), try SyncTables.isMigrated(db) else { return [] }
            let schema = try SyncTables.installedSchema(db)
            var states: [TableCapture] = []
            for registration in try TableRegistration.all(db) {
                guard let spec = schema.table(named: registration.name), spec.direction.dealerPushes,
                    let row = try Row.fetchOne(db, sql: "SELECT * FROM _dealersync_tables WHERE id = ?", arguments: [registration.id])
                else { continue }
                let stored: String = row["capture_state"]
                var capture = TableCapture(
                    table: registration.name, state: stored == "ok" ? .ok : stored == "off" ? .off : .reconciling,
                    reason: stored == "ok" ? nil : row["capture_reason"], sinceMillis: row["capture_since"],
                    done: row["reconcile_done"], total: row["reconcile_total"], found: row["reconcile_found"],
                    lastRepair: row["last_repair"])
                if live, capture.state == .ok, let shape = try TableShape.read(db, for: spec),
                    let gap = try CaptureCheck.gap(db, registration, shape: shape, storedRootPage: row["root_page"])
                {
                    capture.state = .off
                    capture.reason = gap
                }
                states.append(capture)
            }
            return states
        }
    }

    /// What the agent tells HQ on each pull (`X-Dealersync-Capture`): the worst table's
    /// state, how many are not ok, and when the latest gap was found. From the last check,
    /// not a new one: the cycle has just run it.
    public func captureReport() throws -> CaptureReport {
        let states = try captureStates(live: false)
        let notOK = states.filter { $0.state != .ok }
        let state: CaptureReport.State = notOK.contains { $0.state == .off } ? .off : notOK.isEmpty ? .ok : .repairing
        return CaptureReport(state: state, tables: notOK.count, lastGapMillis: states.compactMap(\.sinceMillis).max())
    }
}

extension DealerDatabase {
    /// `dealersync pause-capture`: drops dealersync's triggers and marks every captured table
    /// `off`, for a DMS upgrade SQLite would refuse with them in place: `ALTER TABLE … DROP
    /// COLUMN` fails on a column a trigger names, and the update trigger names every synced
    /// column. The agent's next cycle puts the triggers back and reconciles, so the writes
    /// made meanwhile (the upgrade's and the DMS's) are sent. Returns the tables paused.
    public func pauseCapture(nowMillis: Int64) throws -> [String] {
        try write { db in
            try requireInstalled(db)
            let schema = try SyncTables.installedSchema(db)
            var paused: [String] = []
            for registration in try TableRegistration.all(db) where schema.table(named: registration.name)?.direction.dealerPushes == true {
                let triggers = try String.fetchAll(
                    db, sql: "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE ? ESCAPE '\\'",
                    arguments: ["\\_dealersync\\_\(registration.id)\\_%"])
                for trigger in triggers { try db.execute(sql: "DROP TRIGGER IF EXISTS \(quoted(trigger))") }
                try db.execute(
                    sql: """
                        UPDATE _dealersync_tables SET capture_state = 'off',
                            capture_reason = 'capture was paused by `dealersync pause-capture` (for a DMS upgrade)',
                            capture_since = ? WHERE id = ?
                        """,
                    arguments: [nowMillis, registration.id])
                paused.append(registration.name)
            }
            return paused
        }
    }
}
