import Foundation
import GRDB
import SyncCore

/// What `applyColumnPolicies` rewrote.
public struct ColumnPolicyReport: Hashable, Sendable {
    public var rows = 0
    public var feedEntries = 0
    public var deadLetters = 0
    public var conflicts = 0
    /// Rows HQ's SQL tables were refilled with.
    public var sqlTableRows = 0
}

/// A column made `local`, `masked` or `hashed` after HQ received its values (docs/PRIVACY.md):
/// HQ rewrites everything it kept of them, merged rows, the feed's history and dead letters,
/// into what the policy lets it hold now, and forgets conflict values of those columns.
/// Pushes are already treated so from the moment HQ runs the new schema (`keepingPrivacy`).
extension SQLiteSyncStore {
    /// The policies as one line per table, to tell whether they changed since the last pass.
    static func policyFingerprint(_ schema: SyncSchema) -> String {
        schema.tables.sorted { $0.name < $1.name }.compactMap { table in
            let lists = [("local", table.localColumns), ("masked", table.maskedColumns), ("hashed", table.hashedColumns)]
            guard lists.contains(where: { !$0.1.isEmpty }) else { return nil }
            return table.name + " " + lists.map { "\($0.0)=\($0.1.sorted().joined(separator: ","))" }.joined(separator: " ")
        }.joined(separator: "\n")
    }

    /// Rewrites what HQ holds of columns whose policy is stricter than when it was received;
    /// nil when the policies are those of the last pass (the usual start). Works in write
    /// transactions of `chunk` entries, so ingest goes on; an interrupted pass runs again
    /// from the start at the next call (a rewritten entry comes out unchanged). Both files
    /// are then rewritten (`rewriteFiles`), so no old value stays in them.
    /// HQ's SQL tables are then rebuilt and identity relinked before both files are rewritten.
    public func applyColumnPolicies(_ schema: SyncSchema, chunk: Int = 1_000) async throws -> ColumnPolicyReport? {
        let fingerprint = Self.policyFingerprint(schema)
        let applied = try await pool.read { db in try String.fetchOne(db, sql: "SELECT policies FROM privacy_state WHERE id = 1") }
        guard applied != fingerprint else { return nil }
        let protection = ColumnProtection(schema: schema, key: nil)
        var report = ColumnPolicyReport()
        for spec in schema.tables where !(spec.localColumns.isEmpty && spec.maskedColumns.isEmpty && spec.hashedColumns.isEmpty) {
            let purged: @Sendable (Data) throws -> Data? = { data in
                var version = try RowVersion(canonicalBytes: Array(data))
                version.removeColumns(spec.localColumns)
                let bytes = protection.protect(version).canonicalBytes
                return bytes.elementsEqual(data) ? nil : Data(bytes)
            }
            report.rows += try await rewrite(
                select: "SELECT row_key AS id, version FROM rows WHERE table_name = ? AND row_key > ? ORDER BY row_key LIMIT ?",
                update: "UPDATE rows SET version = ? WHERE table_name = ? AND row_key = ?", table: spec.name, start: Data(),
                chunk: chunk, purged)
            report.feedEntries += try await rewrite(
                select: "SELECT seq AS id, version FROM feed WHERE table_name = ? AND seq > ? ORDER BY seq LIMIT ?",
                update: "UPDATE feed SET version = ? WHERE table_name = ? AND seq = ?", table: spec.name, start: Int64(0),
                chunk: chunk, purged)
            report.deadLetters += try await rewrite(
                select: "SELECT id, version FROM dead_letters WHERE table_name = ? AND id > ? ORDER BY id LIMIT ?",
                update: "UPDATE dead_letters SET version = ? WHERE table_name = ? AND id = ?", table: spec.name, start: Int64(0),
                chunk: chunk, purged)
            let columns = Array(spec.localColumns.union(spec.maskedColumns).union(spec.hashedColumns)).sorted()
            report.conflicts += try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE conflicts SET winning_value = NULL, losing_values = '[]'
                        WHERE table_name = ? AND column_name IN (\(columns.map { _ in "?" }.joined(separator: ", ")))
                          AND (winning_value IS NOT NULL OR losing_values != '[]')
                        """,
                    arguments: StatementArguments([spec.name] + columns))
                return db.changesCount
            }
        }
        try await pool.write { db in
            // Identity records keep normalised mobiles and ID numbers: linking reads every
            // row again (keeping each record's person), so they hold what the rows now hold.
            if self.tables != nil, try db.tableExists("_dealersync_identity_state", in: HQTables.schemaName) {
                try db.execute(sql: "UPDATE \(HQTables.schemaName)._dealersync_identity_state SET feed_seq = 0 WHERE id = 1")
            }
        }
        // What HQ derives from the rows follows them: the SQL tables, then identity records
        // and golden records (relinked from the start; each record keeps its person).
        report.sqlTableRows = try rebuildTables()
        while try await linkIdentities(chunk: 2_000) > 0 {}
        // Last, so nothing written above leaves an old copy behind; the policies count as
        // applied only then, so a crash anywhere before makes the next start do it all again.
        try await rewriteFiles()
        try await pool.write { db in try db.execute(sql: "UPDATE privacy_state SET policies = ? WHERE id = 1", arguments: [fingerprint]) }
        return report
    }

    /// Rewrites the `version` of every entry `select` reads for `table`, `chunk` a transaction.
    private func rewrite<ID: DatabaseValueConvertible & Sendable>(
        select: String, update: String, table: String, start: ID, chunk: Int, _ purged: @escaping @Sendable (Data) throws -> Data?
    ) async throws -> Int {
        var after = start
        var rewritten = 0
        while true {
            let from = after
            let (count, last, changed) = try await pool.write { db -> (Int, ID?, Int) in
                let entries = try Row.fetchAll(db, sql: select, arguments: [table, from, chunk])
                var changed = 0
                for entry in entries {
                    guard let bytes = try purged(entry["version"]) else { continue }
                    try db.execute(sql: update, arguments: [bytes, table, entry["id"] as DatabaseValue])
                    changed += 1
                }
                return (entries.count, entries.last.map { $0["id"] as ID }, changed)
            }
            rewritten += changed
            guard count == chunk, let last else { return rewritten }
            after = last
        }
    }

    /// Rewrites both files without free space (`VACUUM`) and truncates their WALs: SQLite
    /// overwrites what it deletes (`secure_delete`), but a cell moved while pages were
    /// rebalanced can leave an old copy in a page's unused space, which only a rewrite
    /// removes. Ingest waits meanwhile (about a second per 100 MB here), so HQ does it at
    /// start after a policy change and in the retention pass after erasures, not per request.
    func rewriteFiles() async throws {
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            if self.tables != nil { try db.execute(sql: "VACUUM \(HQTables.schemaName)") }
        }
        try await emptyWAL(required: true)
    }

    /// Checkpoints both files and truncates their WALs: old page images of removed values
    /// would otherwise stay in the WAL until overwritten. Readers in the middle of a read
    /// can keep a checkpoint from finishing: `required` makes that an error (the caller tries
    /// again later), else it is left to the next call.
    func emptyWAL(required: Bool = false) async throws {
        try await pool.writeWithoutTransaction { db in
            for name in ["main"] + (self.tables != nil ? [HQTables.schemaName] : []) {
                do {
                    try db.checkpoint(.truncate, on: name)
                } catch where !required {
                    continue
                }
            }
        }
    }
}
