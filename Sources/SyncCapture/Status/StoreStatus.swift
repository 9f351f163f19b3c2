import Foundation
import GRDB
import SyncCore

/// What `dealersync status` shows: read from the DMS file alone, in one read transaction,
/// with the agent running or not.
public struct StoreStatus: Codable, Hashable, Sendable {
    public enum Health: String, Codable, Sendable {
        case healthy, degraded, broken

        /// The exit code of `dealersync status`: 0 healthy, 1 degraded, 2 broken.
        public var exitCode: Int32 {
            switch self {
            case .healthy: 0
            case .degraded: 1
            case .broken: 2
            }
        }
    }

    public struct Problem: Codable, Hashable, Sendable {
        public var message: String
        public var hint: String
    }

    public var node: String
    public var database: String
    public var hqURL: String?
    public var schemaVersion: Int?
    /// Captured changes not yet built into a batch.
    public var pendingChanges: Int
    /// Built batches not yet acknowledged by HQ, and their rows.
    public var outboxBatches: Int
    public var outboxRows: Int
    /// Age of the oldest unacknowledged batch, in seconds.
    public var oldestUnsentSeconds: Int?
    public var lastPushAt: Date?
    public var lastPullAt: Date?
    public var clockOffsetMillis: Int64?
    public var unresolvedConflicts: Int
    /// Rows from HQ the DMS refused so far (kept in `_dealersync_held`, retried every cycle).
    public var heldRows: Int = 0
    /// Rows from HQ kept for a pulled table the DMS has not created yet (or the agent has not
    /// registered yet), by table: applied once it exists. Information, not a fault.
    public var waitingForTables: [String: Int] = [:]
    /// Pushed rows HQ refused (dead letters at HQ) and rows whose columns HQ overruled,
    /// among the newest kept notices (`_dealersync_hq_notices`).
    public var refusedByHQ: Int = 0
    public var overruledByHQ: Int = 0
    public var lastError: Problem?
    public var tableProblems: [String: String]
    /// Each captured table's capture, checked live (see `CaptureCheck`).
    public var capture: [TableCapture] = []
    public var health: Health
    public var problems: [Problem]
}

extension DealerDatabase {
    /// Thresholds that turn a quiet store into a degraded one.
    public struct StatusThresholds: Sendable {
        /// A batch waiting longer than this means pushes are not getting through.
        public var unsentSeconds = 3_600
        public init() {}
    }

    public func status(now: Date = Date(), thresholds: StatusThresholds = StatusThresholds()) throws -> StoreStatus {
        // Checked live, so a stopped agent's store still shows a migration that dropped triggers.
        let capture = try captureStates(live: true)
        let restored = try read { db in try SyncTables.isInstalled(db) } ? try restoreEvidence() : nil
        return try read { db in
            var problems: [StoreStatus.Problem] = []
            guard try SyncTables.isInstalled(db) else {
                return StoreStatus(
                    node: settings.node, database: settings.databasePath, pendingChanges: 0, outboxBatches: 0, outboxRows: 0,
                    unresolvedConflicts: 0, tableProblems: [:], health: .broken,
                    problems: [.init(message: "dealersync is not set up in this database", hint: "run `dealersync init --config <agent.yaml>`")])
            }
            func text(_ key: MetaKey) throws -> String? { try SyncTables.meta(db, key).flatMap(String.fromDatabaseValue) }
            do {
                try requireInstalled(db)
            } catch let error as CaptureError {
                return StoreStatus(
                    node: settings.node, database: settings.databasePath, pendingChanges: 0, outboxBatches: 0, outboxRows: 0,
                    unresolvedConflicts: 0, tableProblems: [:], health: .broken, problems: [.init(message: error.message, hint: error.hint)])
            }
            func millis(_ key: MetaKey) throws -> Int64? { try SyncTables.meta(db, key).flatMap(Int64.fromDatabaseValue) }
            func date(_ key: MetaKey) throws -> Date? { try millis(key).map { Date(timeIntervalSince1970: Double($0) / 1000) } }

            var pending = 0
            var tableProblems: [String: String] = [:]
            for registration in try TableRegistration.all(db) {
                // Checked live: the agent may be stopped while the DMS drops a table.
                let exists = try Bool.fetchOne(
                    db, sql: "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?", arguments: [registration.name]) ?? false
                if let problem = registration.problem ?? (exists ? nil : "synced table '\(registration.name)' is no longer in the DMS database (dropped or renamed)") {
                    tableProblems[registration.name] = problem
                    problems.append(.init(message: problem, hint: "restore the table, or update the sync schema and run `dealersync init` again"))
                }
                if try db.tableExists(registration.logTable) {
                    pending += try Int.fetchOne(db, sql: "SELECT count(*) FROM \(registration.logTable)") ?? 0
                }
            }
            let outbox = try Row.fetchOne(db, sql: "SELECT count(*) AS n, coalesce(sum(row_count), 0) AS rows, min(created_at) AS oldest FROM _dealersync_outbox")!
            let oldest: Int64? = outbox["oldest"]
            let oldestSeconds = oldest.map { Int((now.timeIntervalSince1970 * 1000 - Double($0)) / 1000) }
            let conflicts = try Int.fetchOne(db, sql: "SELECT count(*) FROM _dealersync_conflicts WHERE resolved_at IS NULL") ?? 0
            var lastError: StoreStatus.Problem?
            if let message = try text(.lastError) {
                lastError = .init(message: message, hint: try text(.lastErrorHint) ?? "see the agent's log")
            }
            var health: StoreStatus.Health = tableProblems.isEmpty ? .healthy : .broken
            Self.captureProblems(capture, now: now, health: &health, problems: &problems)
            if let recovery = try text(.recovery) {
                if health == .healthy { health = .degraded }
                problems.append(.init(
                    message: "recovering from a restored DMS file: \(recovery)",
                    hint: "nothing to do: the agent pulls HQ's newer rows; edits typed into the restored copy that they replace are listed by `dealersync conflicts list`"))
            } else if let restored {
                health = .broken
                problems.append(.init(
                    message: "the DMS file is older than what this store already sent (its write counter is \(restored.fileCounter), \(restored.witness) saw \(restored.witnessed)): restored from a backup or copied back",
                    hint: "start the agent (systemctl start dealersync-agent): it recovers HQ's newer rows by itself; do not run `resync`"))
            } else if let last = try text(.lastRecovery) {
                problems.append(.init(message: "last recovery from a restored DMS file: \(last)", hint: "nothing to do"))
            }
            if let lastError, health == .healthy {
                health = .degraded
                problems.append(lastError)
            }
            var held = 0
            var waiting: [String: Int] = [:]
            if try db.tableExists("_dealersync_held") {
                // Rows of a table that can be applied now were refused by the DMS; the others
                // wait for their table (the same split as `retryHeldRows`).
                let ready = try HeldRows.readyTables(db)
                var refusedTables: [String] = []
                for row in try Row.fetchAll(db, sql: "SELECT table_name, count(*) AS n FROM _dealersync_held GROUP BY table_name") {
                    let table: String = row["table_name"]
                    let count: Int = row["n"]
                    if ready.contains(table) {
                        held += count
                        refusedTables.append(table)
                    } else {
                        waiting[table] = count
                    }
                }
                let placeholders = refusedTables.map { _ in "?" }.joined(separator: ", ")
                if held > 0, let first = try Row.fetchOne(
                    db, sql: "SELECT table_name, reason FROM _dealersync_held WHERE table_name IN (\(placeholders)) ORDER BY first_failed_at LIMIT 1",
                    arguments: StatementArguments(refusedTables))
                {
                    if health == .healthy { health = .degraded }
                    problems.append(.init(
                        message: "\(held) rows from HQ were refused by the DMS and wait (first: \(first["table_name"] as String): \(first["reason"] as String))",
                        hint: "the DMS's own constraint or trigger refused them; correct the row at HQ or the DMS rule; the agent retries every cycle"))
                }
                let live = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema WHERE type = 'table'"))
                for (table, count) in waiting.sorted(by: { $0.key < $1.key }) {
                    // Not a fault of its own (health stays): the rows are applied once the
                    // table exists and is registered. A dropped registered table is already
                    // a table problem above.
                    let note: StoreStatus.Problem
                    if live.contains(table) {
                        note = .init(
                            message: "\(count) rows from HQ wait for table '\(table)' to be set up for sync",
                            hint: "the agent sets up new tables at its next cycle (or run `dealersync init` again); the rows are applied then")
                    } else if tableProblems[table] != nil {
                        note = .init(
                            message: "\(count) rows from HQ wait for table '\(table)' to be back in the DMS database",
                            hint: "they are applied once the table is restored")
                    } else {
                        note = .init(
                            message: "\(count) rows from HQ wait for table '\(table)', which is not in the DMS database yet",
                            hint: "nothing to do: they are applied once the DMS creates the table (for example when its module is installed)")
                    }
                    problems.append(note)
                }
            }
            let notices = try Self.hqNoticeSummary(db)
            if let refused = notices[.refused] {
                if health == .healthy { health = .degraded }
                problems.append(.init(
                    message: "HQ refused \(refused.count) pushed rows (newest: \(refused.newest))",
                    hint: "the rows stay as they are in this store and in HQ's dead letters; HQ's operators can share a row with this store (`dealersync hq share`) or fix its cause"))
            }
            if let overruled = notices[.overruled] {
                problems.append(.init(
                    message: "HQ kept its own value in \(overruled.count) pushed rows (newest: \(overruled.newest))",
                    hint: "these columns belong to HQ or to the store that created the row (sync schema `owners`); HQ's value arrives at the next pull"))
            }
            if let oldestSeconds, oldestSeconds > thresholds.unsentSeconds, health == .healthy {
                health = .degraded
                problems.append(.init(
                    message: "the oldest unsent batch has waited \(oldestSeconds / 60) minutes",
                    hint: "check that the agent runs (systemctl status dealersync-agent) and can reach HQ"))
            }
            return StoreStatus(
                node: try text(.node) ?? settings.node, database: settings.databasePath, hqURL: try text(.hqURL),
                schemaVersion: try millis(.schemaVersion).map(Int.init), pendingChanges: pending,
                outboxBatches: outbox["n"], outboxRows: outbox["rows"], oldestUnsentSeconds: oldestSeconds,
                lastPushAt: try date(.lastPushAt), lastPullAt: try date(.lastPullAt),
                clockOffsetMillis: try millis(.hlcOffset), unresolvedConflicts: conflicts, heldRows: held, waitingForTables: waiting,
                refusedByHQ: notices[.refused]?.count ?? 0, overruledByHQ: notices[.overruled]?.count ?? 0, lastError: lastError,
                tableProblems: tableProblems, capture: capture, health: health, problems: problems)
        }
    }

    /// Capture off is broken (writes are being missed); a reconcile in progress is degraded
    /// (missed writes are being found); a repair in the last day is shown, as information.
    static func captureProblems(_ capture: [TableCapture], now: Date, health: inout StoreStatus.Health, problems: inout [StoreStatus.Problem]) {
        let formatter = ISO8601DateFormatter()
        func since(_ table: TableCapture) -> String {
            table.sinceMillis.map { " since " + formatter.string(from: Date(timeIntervalSince1970: Double($0) / 1000)) } ?? ""
        }
        for table in capture {
            switch table.state {
            case .off:
                health = .broken
                problems.append(.init(
                    message: "capture of '\(table.table)' is off\(since(table)): \(table.reason ?? "its triggers are not in place")",
                    hint: "start the agent (systemctl start dealersync-agent): its next cycle puts the triggers back and sends the writes made meanwhile"))
            case .reconciling:
                if health == .healthy { health = .degraded }
                problems.append(.init(
                    message: "reconciling '\(table.table)' after capture was off\(since(table)): \(table.done) of \(table.total) rows compared, \(table.found) changes found (\(table.reason ?? ""))",
                    hint: "nothing to do: the agent finds the writes made while capture was off and sends them"))
            case .ok:
                guard let repair = table.lastRepair, let sinceMillis = table.sinceMillis,
                    now.timeIntervalSince1970 * 1000 - Double(sinceMillis) < 86_400_000
                else { continue }
                problems.append(.init(message: "capture of '\(table.table)' was repaired: \(repair)", hint: "nothing to do"))
            }
        }
    }

    /// Records the outcome of an agent step for `status` (the agent calls these).
    public func recordAgentState(hqURL: String? = nil, pushedAt: Date? = nil, pulledAt: Date? = nil) throws {
        try write { db in
            if let hqURL { try SyncTables.setMeta(db, .hqURL, hqURL) }
            if let pushedAt { try SyncTables.setMeta(db, .lastPushAt, Int64(pushedAt.timeIntervalSince1970 * 1000)) }
            if let pulledAt { try SyncTables.setMeta(db, .lastPullAt, Int64(pulledAt.timeIntervalSince1970 * 1000)) }
        }
    }

    /// Records (or with nil, clears) the agent's current error for `status`.
    public func recordAgentError(_ message: String?, hint: String? = nil, at date: Date = Date()) throws {
        try write { db in
            try SyncTables.setMeta(db, .lastError, message)
            try SyncTables.setMeta(db, .lastErrorHint, hint)
            try SyncTables.setMeta(db, .lastErrorAt, message == nil ? nil : Int64(date.timeIntervalSince1970 * 1000))
        }
    }

    /// Sets the HLC's correction from the offset measured against HQ (HQ's clock minus ours).
    public func recordClockOffset(millis: Int64, at date: Date = Date()) throws {
        try write { db in
            try SyncTables.setMeta(db, .hlcOffset, millis)
            try SyncTables.setMeta(db, .hlcOffsetMeasuredAt, Int64(date.timeIntervalSince1970 * 1000))
        }
    }

    /// Whether the offset to HQ's clock has ever been measured. Until it has, local changes
    /// must not be stamped: a reading from a clock a day ahead would stay in the HLC (which
    /// never goes back) and in the rows, and HQ refuses rows from the future.
    public func hasMeasuredClockOffset() throws -> Bool {
        try read { db in try SyncTables.meta(db, .hlcOffsetMeasuredAt).flatMap(Int64.fromDatabaseValue) != nil }
    }
}
