import Foundation
import GRDB
import SQLiteValues
import SyncCore

/// How an operator settles a logged conflict.
public enum ConflictChoice: Hashable, Sendable {
    /// Keep what the merge rule decided; mark the conflict reviewed.
    case keep
    /// Put a losing write back: its value for a column conflict, the delete for an update
    /// that won over a delete. `loser` is 1-based and may be omitted when there is one loser.
    case useLosing(loser: Int?)
}

extension DealerDatabase {
    /// Settles conflict `id`. `.useLosing` writes the losing value (or delete) into the DMS
    /// through an ordinary connection, so the triggers capture it as a new local write: it has
    /// seen every write of the conflict, so it replaces them at HQ and at every store.
    /// Resolving with `.keep` twice is harmless; re-writing an already resolved one is refused.
    @discardableResult
    public func resolveConflict(id: Int64, choice: ConflictChoice, wallMillis: Int64) throws -> ConflictRecord {
        try write { db in
            try requireInstalled(db)
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM _dealersync_conflicts WHERE id = ?", arguments: [id]) else {
                throw CaptureError(.noSuchConflict, "there is no conflict #\(id) in \(settings.databasePath)", hint: "`dealersync conflicts list` shows their numbers")
            }
            var record = try ConflictRecord(row: row)
            if case .useLosing(let loser) = choice {
                guard record.resolvedAt == nil else {
                    throw CaptureError(
                        .cannotResolve, "conflict #\(id) was already resolved",
                        hint: "edit the row in the DMS if its value should change again")
                }
                try restoreLosingWrite(db, record, loser: loser)
            }
            if record.resolvedAt == nil {
                try db.execute(sql: "UPDATE _dealersync_conflicts SET resolved_at = ? WHERE id = ?", arguments: [wallMillis, id])
                record.resolvedAt = Date(timeIntervalSince1970: Double(wallMillis) / 1000)
            }
            return record
        }
    }

    private func restoreLosingWrite(_ db: Database, _ record: ConflictRecord, loser: Int?) throws {
        let transaction = try SyncTransaction(db, node: node, wallMillis: 0, hashKey: settings.hashKey)
        guard let spec = transaction.schema.table(named: record.table), spec.direction.dealerPushes,
            let shape = transaction.shapes[record.table]
        else {
            throw CaptureError(
                .cannotResolve, "table \(record.table) is not sent from this store (direction down, or no longer in the DMS)",
                hint: "change the row where it is owned (at HQ), or `dealersync conflicts resolve \(record.id) --keep`")
        }
        let match = SyncTransaction.keyMatch(shape.primaryKey)
        let keyArguments = record.key.values.map(\.databaseValue)
        guard let column = record.column else {
            guard record.reason == Conflict.Reason.updateWinsOverDelete.rawValue else {
                throw CaptureError(
                    .cannotResolve, "conflict #\(record.id): the row stays deleted and the losing update's values are not kept",
                    hint: "enter the row again in the DMS; it syncs as a new write")
            }
            try db.execute(sql: "DELETE FROM \(quoted(record.table)) WHERE \(match)", arguments: StatementArguments(keyArguments))
            return
        }
        guard record.reason != Conflict.Reason.ownerWins.rawValue else {
            throw CaptureError(
                .cannotResolve, "conflict #\(record.id): \(record.table).\(column) is owned by \(record.winner.split(separator: ":").first ?? "its owner")",
                hint: "ask the owner to change it, or `dealersync conflicts resolve \(record.id) --keep`")
        }
        let count = record.losingValues.count
        let index = loser ?? (count == 1 ? 1 : 0)
        guard index >= 1, index <= count else {
            throw CaptureError(
                .cannotResolve, "conflict #\(record.id) has \(count) losing writes; \(loser.map { "\($0) is not one of them" } ?? "say which one")",
                hint: "`dealersync conflicts show \(record.id)` numbers them; pass --use-losing --loser N with N from 1 to \(count)")
        }
        guard shape.valueColumns.contains(column) else {
            throw CaptureError(
                .cannotResolve, "column \(record.table).\(column) is no longer in the DMS",
                hint: "`dealersync conflicts resolve \(record.id) --keep`")
        }
        try db.execute(
            sql: "UPDATE \(quoted(record.table)) SET \(quoted(column)) = ? WHERE \(match)",
            arguments: StatementArguments([record.losingValues[index - 1].databaseValue] + keyArguments))
        guard db.changesCount == 1 else {
            throw CaptureError(
                .cannotResolve, "conflict #\(record.id): the row is no longer in \(record.table)",
                hint: "`dealersync conflicts resolve \(record.id) --keep`, or enter the row again in the DMS")
        }
    }
}
