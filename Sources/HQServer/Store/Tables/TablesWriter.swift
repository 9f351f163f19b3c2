import Foundation
import GRDB
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
    /// `advancesState`: false for a fill, which re-shows rows out of feed order.
    func apply(_ db: Database, table: String, merged: RowVersion, sequence: Int64, advancesState: Bool = true) throws {
        if let quality, let spec = quality.schema.table(named: table) {
            try quality.apply(db, spec: spec, merged: merged, keyColumns: layouts[table]?.key, sequence: sequence, today: today)
        }
        if let layout = layouts[table] {
            let rowKey = Data(merged.key.bytes)
            try db.cachedStatement(sql: "DELETE FROM \(Self.schemaName)._dealersync_mismatches WHERE table_name = ? AND _row_key = ?")
                .execute(arguments: [table, rowKey])
            try countUnshaped(db, merged, layout: layout)
            if let arguments = Self.projection(merged, layout: layout, sequence: sequence) {
                try db.cachedStatement(sql: layout.upsert).execute(arguments: arguments)
                try db.cachedStatement(sql: "DELETE FROM \(Self.schemaName)._dealersync_deleted WHERE table_name = ? AND _row_key = ?")
                    .execute(arguments: [table, rowKey])
                for mismatch in Self.mismatches(merged, layout: layout) {
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
        if advancesState {
            try db.cachedStatement(sql: "UPDATE \(Self.schemaName)._dealersync_state SET feed_seq = ? WHERE id = 1").execute(arguments: [sequence])
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
        let rowKey = Data(merged.key.bytes)
        guard merged.isAlive(policy: layout.spec.policy) else { return nil }
        var keyValues = merged.key.values
        var arguments: [DatabaseValueConvertible?] = [rowKey]
        if layout.spec.direction == .up {
            // `up` rows are keyed (dealer, local key…) at HQ.
            arguments.append(keyValues.first.map(Self.databaseValue))
            keyValues = Array(keyValues.dropFirst())
        }
        let shown = merged.values(policy: layout.spec.policy)
        for column in layout.columns {
            if let position = layout.key.firstIndex(of: column.name) {
                arguments.append(position < keyValues.count ? Self.databaseValue(keyValues[position]) : DatabaseValue.null)
            } else {
                arguments.append(Self.databaseValue(shown[column.name] ?? .null))
            }
        }
        let latest = Self.latestWrite(merged)
        arguments += [merged.origin.node.rawValue, latest.node.rawValue, Int64(latest.hlc.physicalMillis), sequence]
        return StatementArguments(arguments)
    }

    /// Shown values whose storage class does not fit their column's declared type, each with
    /// the store whose write is shown (for an `up` row, the store it belongs to).
    static func mismatches(_ merged: RowVersion, layout: TableLayout) -> [(column: String, dealer: String, storageClass: String)] {
        let shown = merged.values(policy: layout.spec.policy)
        var found: [(column: String, dealer: String, storageClass: String)] = []
        for column in layout.columns where !layout.key.contains(column.name) {
            guard let value = shown[column.name], !ColumnAffinity(declaredType: column.declaredType).fits(value) else { continue }
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

    static func databaseValue(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .integer(let number): number.databaseValue
        case .real(let number): number.databaseValue
        case .text(let text): text.databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        }
    }
}
