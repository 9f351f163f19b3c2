import Foundation
import GRDB
import SQLiteValues
import SyncCore

/// What applying a page of remote versions did.
public struct ApplyReport: Hashable, Sendable {
    public var applied = 0
    public var unchanged = 0
    public var conflicts = 0
    /// Versions of tables this store does not pull (not in the schema, or `up` only).
    public var skipped = 0
    /// Rows erased at HQ on request (docs/PRIVACY.md): deleted here with every copy
    /// dealersync kept of them, and the file scrubbed after the page.
    public var erased = 0
    /// Local changes stamped first so the merge could see them.
    public var stampedLocal = 0
    /// Rows set aside in `_dealersync_held`: those the DMS refused (retried every cycle) and
    /// those of a pulled table the DMS has not created yet (applied once it exists).
    public var held = 0
}

extension DealerDatabase {
    /// Applies remote row versions from HQ: each is merged with the local version (pending
    /// local edits are stamped first, never overwritten), the merged row is written to the
    /// DMS table with the capture guard set so it is not captured again, conflicts are
    /// logged with both values, and `cursor` is saved in the same transaction as the last
    /// rows. Work is split into short transactions; a crash anywhere leaves the database
    /// consistent, and applying the same page again changes nothing. Chunks start at
    /// `chunkSize` rows and adapt so each holds the DMS write lock for about half of
    /// `settings.maxLockMillis`; pass `adaptive: false` to keep them fixed.
    ///
    /// `recovering` (after a restore, see `beginRecovery`): a pending local edit is not
    /// stamped first, because it was made on a stale copy and a new stamp would claim this
    /// store's writes since the backup as seen. Where HQ's newer version replaces such an
    /// edit, the edit is kept as a `restored-backup` conflict and its log entry dropped.
    public func apply(
        _ versions: [RowVersion], cursor: String?, wallMillis: Int64, chunkSize: Int = 200, adaptive: Bool = true,
        recovering: Bool = false, erased: Set<Int> = []
    ) throws -> ApplyReport {
        var report = ApplyReport()
        // HQ names the erasures of the page by index; the rows are reordered below.
        let erasedRows = Set(erased.map { Erasure.identity(versions[$0]) })
        let order = try read { db -> [String: Int] in
            try requireInstalled(db)
            let schema = try SyncTables.installedSchema(db)
            return Dictionary(uniqueKeysWithValues: schema.tables.enumerated().map { ($1.name, $0) })
        }
        // Parents before children: the schema lists tables parents first.
        let sorted = versions.enumerated().sorted {
            let (l, r) = (order[$0.element.table] ?? Int.max, order[$1.element.table] ?? Int.max)
            return l != r ? l < r : $0.offset < $1.offset
        }.map(\.element)
        var start = 0
        var chunkSize = max(1, chunkSize)
        repeat {
            let chunk = sorted[start..<min(start + chunkSize, sorted.count)]
            let isLast = start + chunkSize >= sorted.count
            let started = DispatchTime.now().uptimeNanoseconds
            try write { db in
                try db.execute(sql: "INSERT INTO _dealersync_guard (active) VALUES (1)")
                let transaction = try SyncTransaction(db, node: node, wallMillis: wallMillis, hashKey: settings.hashKey)
                for version in chunk {
                    try applyOrHold(version, transaction, recovering: recovering, erasure: erasedRows.contains(Erasure.identity(version)), &report)
                }
                if isLast, let cursor { try SyncTables.setMeta(db, .pullCursor, cursor) }
                report.stampedLocal += transaction.stamped.count
                try transaction.finish()
                try db.execute(sql: "DELETE FROM _dealersync_guard")
            }
            start += chunk.count
            if adaptive {
                let elapsedMillis = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
                let target = Double(settings.maxLockMillis) / 2
                chunkSize = max(20, min(20_000, Int(Double(chunk.count) * target / max(elapsedMillis, 0.1))))
            }
        } while start < sorted.count
        return report
    }

    /// The saved pull cursor, nil before the first pull.
    public func pullCursor() throws -> String? {
        try read { db in try SyncTables.meta(db, .pullCursor).flatMap(String.fromDatabaseValue) }
    }

    /// Applies one remote row; a row the DMS refuses is held (see `HeldRows`) and the rest
    /// of the page goes on. The pending local edit is stamped outside the savepoint, so a
    /// refused row never undoes it. A row of a table this store pulls but the DMS has not
    /// created yet (no registration, or no live table) is held too, until the table exists
    /// and is registered; rows of tables this store does not pull are skipped.
    private func applyOrHold(
        _ remote: RowVersion, _ transaction: SyncTransaction, recovering: Bool = false, erasure: Bool = false, _ report: inout ApplyReport
    ) throws {
        guard let spec = transaction.schema.table(named: remote.table), spec.direction.dealerPulls else {
            report.skipped += 1
            return
        }
        guard let registration = transaction.registrations[remote.table], let shape = transaction.shapes[remote.table] else {
            try HeldRows.hold(remote, error: HeldRows.tableMissing(remote.table), db: transaction.db, wallMillis: transaction.wallMillis)
            report.held += 1
            return
        }
        do {
            guard remote.key.values.count == shape.primaryKey.count else {
                throw CaptureError(
                    .remoteRowUnfit, "a row for \(remote.table) has \(remote.key.values.count) key values; the table's key has \(shape.primaryKey.count)",
                    hint: "the row was written at HQ with a wrong key; correct it there")
            }
            let staleEdit = recovering ? try Self.pendingEdit(transaction, registration, shape: shape, key: remote.key) : nil
            let heldHere = erasure ? try transaction.dmsValues(shape, key: remote.key) != nil : false
            if !recovering { try transaction.stampPending(registration, key: remote.key) }
            var rowReport = report
            var merged: RowVersion?
            try transaction.db.inSavepoint {
                merged = try applyOne(remote, spec: spec, registration: registration, shape: shape, transaction, &rowReport)
                return .commit
            }
            report = rowReport
            if let staleEdit, let merged {
                report.conflicts += try Self.keepStaleEdit(staleEdit, replacedBy: merged, spec: spec, registration: registration, transaction)
            }
            if erasure, try Erasure.forget(remote, db: transaction.db, rowWasHere: heldHere) {
                report.erased += 1
            }
            try HeldRows.release(remote, db: transaction.db)
        } catch where HeldRows.isRowError(error) {
            try HeldRows.hold(remote, error: error, db: transaction.db, wallMillis: transaction.wallMillis)
            report.held += 1
        }
    }

    /// Merges and writes one remote row; returns the merged version when the DMS row changed.
    @discardableResult
    private func applyOne(
        _ remote: RowVersion, spec: TableSpec, registration: TableRegistration, shape: TableShape,
        _ transaction: SyncTransaction, _ report: inout ApplyReport
    ) throws -> RowVersion? {
        let values = try transaction.dmsValues(shape, key: remote.key)
        var local = try transaction.storedVersion(registration, key: remote.key, dmsValues: values)
        // HQ decides a row's origin (the first creation it saw; docs/SECURITY.md): a store that
        // created the same key concurrently takes HQ's, so origin-owned columns show the same
        // value everywhere.
        let adoptsOrigin = local.map { $0.origin != remote.origin } ?? false
        if adoptsOrigin { local?.origin = remote.origin }
        let result = merge(local: local, remote: remote, policy: spec.policy)
        // A reading too far ahead (`clockTooFarAhead`: a fast clock somewhere) is not
        // followed, on purpose: the row still applies, and this store's clock stays on time.
        _ = try? transaction.clock.receive(remote.latestHLC, wallMillis: transaction.wallMillis)
        guard result.outcome != .unchanged || adoptsOrigin else {
            report.unchanged += 1
            return nil
        }
        let db = transaction.db
        let keyArguments = remote.key.values.map(\.databaseValue)
        if result.merged.isAlive(policy: spec.policy) {
            let merged = result.merged.values(policy: spec.policy)
            // A masked or hashed column arrives in its protected form: where the merge kept
            // this store's own write of it, the store's value stays (docs/PRIVACY.md).
            let protection = transaction.protection
            let columns = shape.valueColumns.filter { column in
                guard merged[column] != nil else { return false }
                guard protection.protects(table: spec.name, column: column), values?[column] != nil else { return true }
                // The same writes as before the merge: HQ echoed this store's own value.
                return local?.columns[column]?.map(\.dot) != result.merged.columns[column]?.map(\.dot)
            }
            let names = (shape.primaryKey + columns).map(quoted)
            let update = columns.isEmpty
                ? "NOTHING" : "UPDATE SET " + columns.map { "\(quoted($0)) = excluded.\(quoted($0))" }.joined(separator: ", ")
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO \(quoted(shape.name)) (\(names.joined(separator: ", ")))
                    VALUES (\(names.map { _ in "?" }.joined(separator: ", ")))
                    ON CONFLICT (\(shape.primaryKey.map(quoted).joined(separator: ", "))) DO \(update)
                    """)
            try statement.execute(arguments: StatementArguments(keyArguments + columns.map { merged[$0]!.databaseValue }))
        } else if values != nil {
            try db.execute(
                sql: "DELETE FROM \(quoted(shape.name)) WHERE \(SyncTransaction.keyMatch(shape.primaryKey))",
                arguments: StatementArguments(keyArguments))
        }
        try transaction.save(result.merged, registration)
        for conflict in result.conflicts {
            try ConflictLog.record(conflict, db: db, wallMillis: transaction.wallMillis)
        }
        report.conflicts += result.conflicts.count
        report.applied += 1
        return result.merged
    }

    /// The DMS values of a row with a pending (unstamped) change, nil when none is pending.
    private static func pendingEdit(
        _ transaction: SyncTransaction, _ registration: TableRegistration, shape: TableShape, key: RowKey
    ) throws -> (values: [String: SQLValue]?, key: RowKey)? {
        let pending = try Bool.fetchOne(
            transaction.db,
            sql: "SELECT EXISTS (SELECT 1 FROM \(registration.logTable) WHERE \(registration.logKeyMatch))",
            arguments: StatementArguments(key.values.map(\.databaseValue))) ?? false
        guard pending else { return nil }
        return (try transaction.dmsValues(shape, key: key), key)
    }

    /// HQ's newer version replaced an edit made on the restored copy: the edit's values go
    /// to the conflict log (`restored-backup`, for re-entry), and its log entry goes, so it
    /// is not sent as a new edit over HQ's. Returns the conflicts recorded.
    private static func keepStaleEdit(
        _ edit: (values: [String: SQLValue]?, key: RowKey), replacedBy merged: RowVersion, spec: TableSpec,
        registration: TableRegistration, _ transaction: SyncTransaction
    ) throws -> Int {
        let shown = merged.isAlive(policy: spec.policy) ? merged.values(policy: spec.policy) : nil
        var conflicts: [Conflict] = []
        let winner = merged.liveness.last?.dot ?? Dot(node: transaction.node, counter: 0)
        if let values = edit.values {
            if let shown {
                for (column, value) in values.sorted(by: { $0.key < $1.key }) where shown[column] != nil && shown[column] != value {
                    let write = merged.columns[column]?.last
                    conflicts.append(Conflict(
                        table: merged.table, key: edit.key, column: column, reason: .restoredBackup, winner: write?.dot ?? winner,
                        losers: [], winningValue: shown[column], losingValues: [value]))
                }
            } else {
                conflicts.append(Conflict(
                    table: merged.table, key: edit.key, column: nil, reason: .restoredBackup, winner: winner, losers: [],
                    winningValue: nil, losingValues: values.sorted { $0.key < $1.key }.map(\.value)))
            }
        }
        for conflict in conflicts { try ConflictLog.record(conflict, db: transaction.db, wallMillis: transaction.wallMillis) }
        try transaction.db.execute(
            sql: "DELETE FROM \(registration.logTable) WHERE \(registration.logKeyMatch)",
            arguments: StatementArguments(edit.key.values.map(\.databaseValue)))
        return conflicts.count
    }
}
