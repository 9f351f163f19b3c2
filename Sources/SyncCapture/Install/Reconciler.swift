import Foundation
import GRDB
import SQLiteValues
import SyncCore

/// What one `reconcileCapture` call did.
public struct ReconcileReport: Hashable, Sendable {
    /// A table whose reconcile finished, with its summary line.
    public struct Finished: Hashable, Sendable {
        public var table: String
        public var summary: String
    }

    /// Rows compared (DMS rows, then clock records of rows gone from the DMS).
    public var compared = 0
    /// Changes found and queued: rows added, changed or deleted while capture was off.
    public var found = 0
    /// Tables whose reconcile finished in this call.
    public var finished: [Finished] = []
    /// True when a table still awaits reconciling (the time budget ran out).
    public var moreWaiting = false

    public init() {}
}

extension DealerDatabase {
    /// Compares the rows of each table whose capture was or may have been off (see
    /// `CaptureCheck`) with what dealersync last captured or applied, and queues what
    /// differs as local changes, as the triggers would have:
    ///
    /// 1. DMS rows, in rowid (or key) order: no clock record → an insert; a clock record
    ///    whose value digest differs from the row now → an update of every column (which
    ///    columns changed is unknown); equal → nothing, so unchanged rows are not re-sent.
    /// 2. Clock records of rows alive at the last sync whose DMS row is gone → a delete.
    ///
    /// The triggers were restored before this starts, so a DMS write made meanwhile is
    /// captured as usual (and coalesces with what this queues). Each chunk is its own write
    /// transaction, sized so it holds the lock for about a quarter of `capture.max_lock_millis`,
    /// with a pause after it for a waiting DMS (`LockPacing`); progress is saved with each chunk, so a stop or crash resumes where it was. Stops
    /// after `budget` so that a cycle can push what was found; the next cycle goes on.
    @discardableResult
    public func reconcileCapture(
        budget: Duration = .seconds(10), nowMillis: Int64, progress: (CaptureProgress) -> Void = { _ in }
    ) throws -> ReconcileReport {
        var report = ReconcileReport()
        let deadline = ContinuousClock.now + budget
        let tables = try read { db in
            try String.fetchAll(db, sql: "SELECT name FROM _dealersync_tables WHERE capture_state = 'reconcile' ORDER BY id")
        }
        for table in tables {
            guard ContinuousClock.now < deadline else {
                report.moreWaiting = true
                break
            }
            try reconcile(table: table, until: deadline, nowMillis: nowMillis, report: &report, progress: progress)
        }
        return report
    }

    private func reconcile(
        table: String, until deadline: ContinuousClock.Instant, nowMillis: Int64, report: inout ReconcileReport,
        progress: (CaptureProgress) -> Void
    ) throws {
        var chunk = 500
        while true {
            guard ContinuousClock.now < deadline else {
                report.moreWaiting = true
                return
            }
            let started = ContinuousClock.now
            let step = try write { db in try Self.reconcileChunk(db, table: table, chunk: chunk, node: node, nowMillis: nowMillis) }
            report.compared += step.compared
            report.found += step.found
            if let summary = step.finishedSummary {
                report.finished.append(.init(table: table, summary: summary))
                return
            }
            progress(CaptureProgress(step: step.pass == 1 ? "reconcile: rows" : "reconcile: rows gone", table: table, done: step.done, total: step.total))
            chunk = LockPacing.next(after: chunk, took: ContinuousClock.now - started, maxLockMillis: settings.maxLockMillis)
        }
    }

    private struct ChunkResult {
        var pass: Int
        var compared = 0
        var found = 0
        var done = 0
        var total = 0
        var finishedSummary: String?
    }

    /// One chunk of one pass, in the caller's write transaction.
    private static func reconcileChunk(_ db: Database, table: String, chunk: Int, node: NodeID, nowMillis: Int64) throws -> ChunkResult {
        guard let state = try Row.fetchOne(
            db,
            sql: """
                SELECT id, reconcile_pass, reconcile_after, reconcile_done, reconcile_total, reconcile_found, capture_reason, capture_since
                FROM _dealersync_tables WHERE name = ? AND capture_state = 'reconcile'
                """,
            arguments: [table])
        else { return ChunkResult(pass: 2, finishedSummary: "") }
        let id: Int64 = state["id"]
        var result = ChunkResult(pass: state["reconcile_pass"], done: state["reconcile_done"], total: state["reconcile_total"])
        let after = try (state["reconcile_after"] as Data?).map { try RowKey(bytes: Array($0)) }
        let transaction = try SyncTransaction(db, node: node, wallMillis: 0, hashKey: nil)  // reads only; never writes a batch
        guard let registration = transaction.registrations[table], let shape = transaction.shapes[table],
            transaction.schema.table(named: table)?.direction.dealerPushes == true
        else {
            // Not captured here (a `down` table), or gone again: nothing to compare.
            try db.execute(sql: "UPDATE _dealersync_tables SET capture_state = 'ok' WHERE id = ?", arguments: [id])
            return ChunkResult(pass: 2, finishedSummary: "")
        }

        var last: RowKey?
        var count = 0
        if result.pass == 1 {
            // Page by rowid where there is one, else by the key (NOT NULL in WITHOUT ROWID tables).
            let cursor = shape.withoutRowID ? registration.primaryKey.map(quoted) : ["rowid"]
            let tuple = "(" + cursor.joined(separator: ", ") + ")"
            let placeholders = "(" + cursor.map { _ in "?" }.joined(separator: ", ") + ")"
            let keyColumns = registration.primaryKey.map(quoted)
            let valueColumns = shape.valueColumns
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \((cursor + keyColumns + valueColumns.map(quoted)).joined(separator: ", "))
                    FROM \(quoted(table)) WHERE \(after == nil ? "1" : "\(tuple) > \(placeholders)")
                    ORDER BY \(cursor.joined(separator: ", ")) LIMIT \(chunk)
                    """,
                arguments: StatementArguments(after?.values.map(\.databaseValue) ?? []))
            for row in rows {
                let key = RowKey((0..<keyColumns.count).map { SQLValue(databaseValue: row[cursor.count + $0]) })
                var values: [String: SQLValue] = [:]
                for (index, column) in valueColumns.enumerated() {
                    values[column] = SQLValue(databaseValue: row[cursor.count + keyColumns.count + index])
                }
                if try rowChangedUnseen(transaction, registration, key: key, values: values) {
                    if try queueLogEntry(db, registration, key: key, fullMask: true) { result.found += 1 }
                }
                last = RowKey(cursor.indices.map { SQLValue(databaseValue: row[$0]) })
            }
            count = rows.count
        } else {
            let keys = try Data.fetchAll(
                db, sql: "SELECT key FROM _dealersync_clock WHERE table_id = ? AND key > ? ORDER BY key LIMIT \(chunk)",
                arguments: [registration.id, after.map { Data($0.bytes) } ?? Data()])
            for blob in keys {
                let key = try RowKey(bytes: Array(blob))
                guard try vanished(transaction, registration, shape: shape, key: key) else { continue }
                if try queueLogEntry(db, registration, key: key, fullMask: false) { result.found += 1 }
            }
            last = try keys.last.map { try RowKey(bytes: Array($0)) }
            count = keys.count
        }
        result.compared = count
        result.done += count
        let found = (state["reconcile_found"] as Int) + result.found

        if let last, count == chunk {
            try db.execute(
                sql: "UPDATE _dealersync_tables SET reconcile_after = ?, reconcile_done = ?, reconcile_found = ? WHERE id = ?",
                arguments: [Data(last.bytes), result.done, found, id])
        } else if result.pass == 1 {
            // Rows done; now the clock records, from the start.
            result.pass = 2
            try db.execute(
                sql: "UPDATE _dealersync_tables SET reconcile_pass = 2, reconcile_after = NULL, reconcile_done = ?, reconcile_found = ? WHERE id = ?",
                arguments: [result.done, found, id])
        } else {
            let since: Int64? = state["capture_since"]
            let seconds = since.map { String(format: "%.1f s", Double(max(0, nowMillis - $0)) / 1000) } ?? "?"
            let summary = "\(state["capture_reason"] as String? ?? "capture checked"); \(result.total) rows compared, "
                + "\(found) changes made meanwhile queued, repaired in \(seconds)"
            let line = "\(Self.isoDate(nowMillis)): \(summary)"
            try db.execute(
                sql: """
                    UPDATE _dealersync_tables SET capture_state = 'ok', reconcile_pass = 1, reconcile_after = NULL,
                        reconcile_done = 0, reconcile_found = 0, last_repair = ? WHERE id = ?
                    """,
                arguments: [line, id])
            result.finishedSummary = summary
        }
        return result
    }

    /// Whether the DMS row differs from what dealersync last captured or applied: no clock
    /// record (written unseen), a record of a deleted row (created again unseen), or a
    /// value digest that differs. A record from before digests existed cannot be judged:
    /// it gets the digest of the row as it is now (the first reconcile after upgrading).
    private static func rowChangedUnseen(
        _ transaction: SyncTransaction, _ registration: TableRegistration, key: RowKey, values: [String: SQLValue]
    ) throws -> Bool {
        let stored = try transaction.storedDigest(registration, key: key)
        guard stored.exists else { return true }
        if let digest = stored.digest {
            return RowDigest.of(values, bitColumns: registration.bitColumns, basis: digest.basis) != digest
        }
        guard let version = try transaction.storedVersion(registration, key: key, dmsValues: values),
            version.isAlive(policy: transaction.policy(registration.name))
        else { return true }
        try transaction.save(version, registration, dmsValues: values)
        return false
    }

    static func isoDate(_ millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
