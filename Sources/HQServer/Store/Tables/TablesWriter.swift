import Foundation
import GRDB
import SQLiteValues
import SyncCore

/// Writes HQ's SQL tables inside one write transaction, with the layouts `HQTables` read
/// at its start: each merged row as its table's policy shows it, or gone.
///
/// A row is identified by HQ's key bytes (`_row_key`): SQLite compares `'1'`, `1` and `1.0`
/// as one key, HQ does not. Provenance columns: `_origin` (the store that created the
/// row), `_changed_by` and `_changed_at_ms` (node and HLC time of the newest write),
/// `_feed_seq`; an `up` table has `_dealer` too.
struct TablesWriter {
    let layouts: [String: TableLayout]
    /// Data-quality issues, kept with the rows (docs/QUALITY.md); nil when no table has rules.
    var quality: QualityWriter? = nil
    /// YYYY-MM-DD, for quality rules bounded by today.
    var today = ""
    private static let schemaName = HQTables.schemaName

    /// Shows `merged` (just written to `rows` and the feed at `sequence`) in its table, in
    /// the caller's transaction: the row as the table's policy shows it, or gone.
    /// `previousAlive`: whether the row was alive before this merge, nil when unknown (a
    /// catch-up or fill); a row that was alive is not in the deleted list, so its delete
    /// from that list is skipped. `isNew`: HQ had no version of the row before (so no
    /// mismatch, issue or deletion is listed for it: an initial load skips three deletes a row). `advancesState`: false when the caller records the applied
    /// sequence once for its transaction (`markApplied`), or for a fill, which re-shows rows
    /// out of feed order.
    func apply(
        _ db: Database, table: String, merged: RowVersion, sequence: Int64, previousAlive: Bool? = nil, isNew: Bool = false,
        advancesState: Bool = true
    ) throws {
        if let spec = layouts[table]?.spec ?? quality?.schema.table(named: table) {
            let alive = merged.isAlive(policy: spec.policy)
            // The shown values, computed once for the table row, its mismatches and its quality.
            let shown = alive ? merged.values(policy: spec.policy) : [:]
            try quality?.apply(
                db, spec: spec, merged: merged, shown: shown, alive: alive, keyColumns: layouts[table]?.key, sequence: sequence, today: today,
                isNew: isNew)
            if let layout = layouts[table] {
                try show(db, merged, layout: layout, alive: alive, shown: shown, sequence: sequence, previousAlive: previousAlive, isNew: isNew)
            }
        }
        if advancesState { try markApplied(db, through: sequence) }
    }

    /// Records that the tables show every change up to `sequence`.
    func markApplied(_ db: Database, through sequence: Int64) throws {
        try db.cachedStatement(sql: "UPDATE \(Self.schemaName)._dealersync_state SET feed_seq = ? WHERE id = 1").execute(arguments: [sequence])
    }

    private func show(
        _ db: Database, _ merged: RowVersion, layout: TableLayout, alive: Bool, shown: [String: SQLValue], sequence: Int64, previousAlive: Bool?,
        isNew: Bool
    ) throws {
        let table = layout.spec.name
        let rowKey = Data(merged.key.bytes)
        if !isNew {
            try db.cachedStatement(sql: "DELETE FROM \(Self.schemaName)._dealersync_mismatches WHERE table_name = ? AND _row_key = ?")
                .execute(arguments: [table, rowKey])
        }
        try countUnshaped(db, merged, layout: layout)
        if alive {
            try db.cachedStatement(sql: layout.upsert).execute(arguments: Self.arguments(merged, layout: layout, shown: shown, sequence: sequence))
            if previousAlive != true && !isNew {
                try db.cachedStatement(sql: "DELETE FROM \(Self.schemaName)._dealersync_deleted WHERE table_name = ? AND _row_key = ?")
                    .execute(arguments: [table, rowKey])
            }
            for mismatch in Self.mismatches(merged, layout: layout, shown: shown) {
                try db.cachedStatement(sql: """
                    INSERT INTO \(Self.schemaName)._dealersync_mismatches (table_name, _row_key, column_name, dealer, storage_class, _feed_seq)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [table, rowKey, mismatch.column, mismatch.dealer, mismatch.storageClass, sequence])
            }
        } else {
            try db.cachedStatement(sql: layout.delete).execute(arguments: [rowKey])
            let latest = Self.latestWrite(merged)
            let keyJSON = String(decoding: try JSONEncoder.sorted.encode(merged.key.values.map(TypedValue.init)), as: UTF8.self)
            try db.cachedStatement(sql: """
                INSERT INTO \(Self.schemaName)._dealersync_deleted (table_name, _row_key, key_json, deleted_by, deleted_at_ms, _feed_seq)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET deleted_by = excluded.deleted_by,
                    deleted_at_ms = excluded.deleted_at_ms, _feed_seq = excluded._feed_seq
                """).execute(arguments: [table, rowKey, keyJSON, latest.node.rawValue, Int64(latest.hlc.physicalMillis), sequence])
        }
    }

    /// Counts the columns `merged` carries that its table does not have (yet): the version
    /// store keeps their values, and a fill shows them once the column is added.
    private func countUnshaped(_ db: Database, _ merged: RowVersion, layout: TableLayout) throws {
        for column in merged.columns.keys where !layout.knownColumns.contains(column) && !layout.knownColumns.contains(column.lowercased()) {
            try db.cachedStatement(sql: """
                INSERT INTO \(Self.schemaName)._dealersync_unshaped (table_name, column_name, writes) VALUES (?, ?, 1)
                ON CONFLICT DO UPDATE SET writes = writes + 1
                """).execute(arguments: [layout.spec.name, column])
        }
    }

    /// The table row of `merged` (the values of `Layout.names`), nil for a deleted row.
    static func projection(_ merged: RowVersion, layout: TableLayout, sequence: Int64) -> StatementArguments? {
        guard merged.isAlive(policy: layout.spec.policy) else { return nil }
        return arguments(merged, layout: layout, shown: merged.values(policy: layout.spec.policy), sequence: sequence)
    }

    /// The table row of a live `merged` whose policy shows `shown`.
    static func arguments(_ merged: RowVersion, layout: TableLayout, shown: [String: SQLValue], sequence: Int64) -> StatementArguments {
        let rowKey = Data(merged.key.bytes)
        var keyValues = merged.key.values
        var arguments: [DatabaseValueConvertible?] = [rowKey]
        if layout.spec.direction == .up {
            // `up` rows are keyed (dealer, local key…) at HQ.
            arguments.append(keyValues.first?.databaseValue)
            keyValues = Array(keyValues.dropFirst())
        }
        for column in layout.columns {
            if let position = layout.key.firstIndex(of: column.name) {
                arguments.append(position < keyValues.count ? keyValues[position].databaseValue : DatabaseValue.null)
            } else {
                arguments.append((shown[column.name] ?? .null).databaseValue)
            }
        }
        let latest = Self.latestWrite(merged)
        arguments += [merged.origin.node.rawValue, latest.node.rawValue, Int64(latest.hlc.physicalMillis), sequence]
        return StatementArguments(arguments)
    }

    /// Shown values whose storage class does not fit their column's declared type, each with
    /// the store whose write is shown (for an `up` row, the store it belongs to).
    static func mismatches(_ merged: RowVersion, layout: TableLayout, shown: [String: SQLValue]) -> [(column: String, dealer: String, storageClass: String)] {
        var found: [(column: String, dealer: String, storageClass: String)] = []
        for (column, affinity) in zip(layout.columns, layout.affinities) where !layout.key.contains(column.name) {
            guard let value = shown[column.name], !affinity.fits(value) else { continue }
            let writer = merged.columns[column.name]?.max { $0.hlc < $1.hlc }?.dot.node ?? merged.origin.node
            let dealer = layout.spec.direction == .up ? (merged.key.values.first.flatMap { if case .text(let id) = $0 { id } else { nil } } ?? writer.rawValue) : writer.rawValue
            found.append((column.name, dealer, value.storageClass))
        }
        return found
    }

    /// The newest write of the row (existence or a column): who changed it last, and when.
    static func latestWrite(_ version: RowVersion) -> (node: NodeID, hlc: HLCTimestamp) {
        var newest = (node: version.liveness[0].dot.node, hlc: version.liveness[0].hlc)
        for write in version.liveness where write.hlc > newest.hlc { newest = (write.dot.node, write.hlc) }
        for writes in version.columns.values {
            for write in writes where write.hlc > newest.hlc { newest = (write.dot.node, write.hlc) }
        }
        return newest
    }
}
