import Foundation
import GRDB
import SyncCore

/// Bringing HQ's SQL tables back to the merged state: after a power cut (catch-up), after a
/// table was created or gained a column rows already carry (fill), from scratch (rebuild),
/// and checking them against the version store.
extension HQTables {
    /// Applies, from `rows`, every current version past `after` (a chunk of at most `limit`),
    /// in feed order; returns how many and the last sequence. SQLite commits the tables file
    /// and the store one after the other, not together, so after a power cut the tables can
    /// lag the store (never lead it): opening catches up this way, and a rebuild starts from 0.
    func reapply(_ db: Database, after: Int64, limit: Int) throws -> (count: Int, last: Int64) {
        let writer = try writer(db)
        // Tables with quality rules are re-evaluated even before their layout is known.
        let names = Set(writer.layouts.keys).union(quality.map { Array($0.evaluators.keys) } ?? []).sorted()
        guard !names.isEmpty else { return (0, after) }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT table_name, version, feed_seq FROM rows
                WHERE feed_seq > ? AND +table_name IN (\(names.map { _ in "?" }.joined(separator: ", ")))
                ORDER BY feed_seq LIMIT \(limit)
                """,
            arguments: StatementArguments([after] + names))
        var last = after
        for row in rows {
            let version = try RowVersion(canonicalBytes: Array(row["version"] as Data))
            last = row["feed_seq"]
            try writer.apply(db, table: row["table_name"], merged: version, sequence: last)
        }
        return (rows.count, last)
    }

    /// Shows `limit` more rows of the first table being filled, in row-key order, each as its
    /// current version: a push meanwhile writes its rows as usual, so every row is either
    /// not reached yet or exact. Returns the table, the rows shown and whether it is done; nil when no table
    /// is being filled.
    func fillChunk(_ db: Database, limit: Int) throws -> (table: String, rows: Int, done: Bool)? {
        guard let fill = try Row.fetchOne(db, sql: "SELECT table_name, after FROM \(Self.schemaName)._dealersync_fills ORDER BY 1 LIMIT 1") else {
            return nil
        }
        let table: String = fill["table_name"]
        let writer = try writer(db)
        let rows = try Row.fetchAll(
            db, sql: "SELECT row_key, version, feed_seq FROM rows WHERE table_name = ? AND row_key > ? ORDER BY row_key LIMIT \(limit)",
            arguments: [table, fill["after"] as Data])
        for row in rows {
            let version = try RowVersion(canonicalBytes: Array(row["version"] as Data))
            try writer.apply(db, table: table, merged: version, sequence: row["feed_seq"], advancesState: false)
        }
        if rows.count < limit {
            try db.execute(sql: "DELETE FROM \(Self.schemaName)._dealersync_fills WHERE table_name = ?", arguments: [table])
            return (table, rows.count, true)
        }
        try db.execute(
            sql: "UPDATE \(Self.schemaName)._dealersync_fills SET after = ? WHERE table_name = ?", arguments: [rows.last!["row_key"] as Data, table])
        return (table, rows.count, false)
    }

    /// Marks `table` for a fill from its first row, when the store has rows of it.
    func startFill(_ db: Database, table: String) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM rows WHERE table_name = ? LIMIT 1", arguments: [table]) == true else { return }
        try db.execute(
            sql: "INSERT INTO \(Self.schemaName)._dealersync_fills (table_name, after) VALUES (?, x'') ON CONFLICT DO UPDATE SET after = x''",
            arguments: [table])
    }

    /// Drops every DMS table and the lists about them, and creates them again empty from the
    /// declarations and the stores' current reports (a declaration may have changed a type,
    /// a column may have been refused before); a rebuild then refills them with `reapply`.
    func clear(_ db: Database) throws {
        for spec in schema.tables {
            try db.execute(sql: "DROP TABLE IF EXISTS \(TableLayout.qualified(spec.name))")
            try db.execute(sql: "DELETE FROM \(Self.schemaName)._dealersync_layouts WHERE table_name = ?", arguments: [spec.name])
        }
        for list in ["_dealersync_mismatches", "_dealersync_deleted", "_dealersync_unshaped", "_dealersync_fills", "_dealersync_quality_issues"] {
            try db.execute(sql: "DELETE FROM \(Self.schemaName).\(list)")
        }
        try db.execute(sql: "UPDATE \(Self.schemaName)._dealersync_state SET feed_seq = 0 WHERE id = 1")
        for spec in schema.tables where spec.columns == nil {
            if let learned = try learnedLayout(db, spec: spec).layout { try create(db, learned: learned, firstDealer: nil) }
        }
        try ensure(db)
    }

    /// Rows of `table` that differ from the merged state in `rows`, by storage class or value
    /// (missing and extra rows included). The expected rows go into a temporary table with the
    /// same definition, so SQLite converts them exactly as it converted the real ones.
    func differences(_ db: Database, table: String) throws -> Int {
        guard let layout = try layouts(db)[table] else { return 0 }
        try db.execute(sql: "DROP TABLE IF EXISTS temp._dealersync_expected")
        try db.execute(sql: layout.createTable(as: "temp._dealersync_expected"))
        let insert = TableLayout.upsert(into: "temp._dealersync_expected", names: layout.names)
        for row in try Row.fetchAll(db, sql: "SELECT version, feed_seq FROM rows WHERE table_name = ?", arguments: [table]) {
            let version = try RowVersion(canonicalBytes: Array(row["version"] as Data))
            if let arguments = TablesWriter.projection(version, layout: layout, sequence: row["feed_seq"]) {
                try db.execute(sql: insert, arguments: arguments)
            }
        }
        let differs = layout.names.dropFirst().map { "e.\(quotedName($0)) IS NOT t.\(quotedName($0)) OR typeof(e.\(quotedName($0))) <> typeof(t.\(quotedName($0)))" }
            .joined(separator: " OR ")
        let real = layout.qualifiedName
        let count = try Int.fetchOne(
            db,
            sql: """
                SELECT (SELECT count(*) FROM temp._dealersync_expected e LEFT JOIN \(real) t USING ("_row_key") WHERE t."_row_key" IS NULL OR \(differs))
                     + (SELECT count(*) FROM \(real) t WHERE t."_row_key" NOT IN (SELECT "_row_key" FROM temp._dealersync_expected))
                """) ?? 0
        try db.execute(sql: "DROP TABLE temp._dealersync_expected")
        return count
    }
}
