/// Generates the capture triggers and change-log table for one synced table.
///
/// The triggers are plain SQL (no application functions), so they fire for every writer:
/// the DMS, the sqlite3 shell, Python. Each DMS commit records, in its own transaction,
/// which rows changed and which columns: one log row per primary key, with a bit mask of
/// changed columns (62 columns per mask word). Repeated changes to a row coalesce into its
/// one log row (`ON CONFLICT … DO UPDATE`), an UPDATE that changes nothing records nothing,
/// and a primary-key change records the old key (now missing: a delete) and the new key.
struct TriggerBuilder {
    static let bitsPerWord = 62

    let tableID: Int64
    let shape: TableShape
    /// Column names in bit order (may include columns since dropped from the table).
    let bitColumns: [String]

    var maskWords: Int { max(1, (bitColumns.count + Self.bitsPerWord - 1) / Self.bitsPerWord) }
    var logTable: String { "_dealersync_log_\(tableID)" }
    var keyColumns: [String] { shape.primaryKey.indices.map { "k\($0)" } }
    var maskColumns: [String] { (0..<maskWords).map { "m\($0)" } }

    func triggerName(_ event: String) -> String { "_dealersync_\(tableID)_\(event)" }
    var triggerNames: [String] { ["insert", "update", "rekey", "delete"].map(triggerName) }

    /// The change log. Key columns have no declared type, so values keep their storage class.
    var createLogTable: String {
        let keys = keyColumns.joined(separator: ", ")
        let masks = maskColumns.map { "\($0) INTEGER NOT NULL DEFAULT 0" }.joined(separator: ", ")
        return "CREATE TABLE IF NOT EXISTS \(logTable) (\(keys), \(masks), UNIQUE (\(keys)))"
    }

    private static let guardClause = "NOT EXISTS (SELECT 1 FROM _dealersync_guard)"

    /// `OLD.x` and `NEW.x` differ, including in storage class (1 and 1.0 compare equal in
    /// SQL) and byte-wise for text (a NOCASE column would hide 'a' → 'A').
    private static func differs(_ column: String) -> String {
        let c = quoted(column)
        return "(OLD.\(c) IS NOT NEW.\(c) COLLATE BINARY OR typeof(OLD.\(c)) <> typeof(NEW.\(c)))"
    }

    private func logInsert(keyFrom row: String, masks: [String], merge: String) -> String {
        let keys = shape.primaryKey.map { "\(row).\(quoted($0))" }.joined(separator: ", ")
        return """
            INSERT INTO \(logTable) (\(keyColumns.joined(separator: ", ")), \(maskColumns.joined(separator: ", ")))
            VALUES (\(keys), \(masks.joined(separator: ", ")))
            ON CONFLICT (\(keyColumns.joined(separator: ", "))) DO UPDATE SET \(merge);
            """
    }

    private var allBits: [String] { maskColumns.map { _ in "-1" } }
    private var setAllBits: String { maskColumns.map { "\($0) = -1" }.joined(separator: ", ") }

    var createTriggers: [String] {
        let table = quoted(shape.name)
        let keyUnchanged = shape.primaryKey.map { (column: String) -> String in
            let c = quoted(column)
            return "(OLD.\(c) IS NEW.\(c) COLLATE BINARY AND typeof(OLD.\(c)) = typeof(NEW.\(c)))"
        }.joined(separator: " AND ")
        let synced = Set(shape.valueColumns)
        let tracked = bitColumns.enumerated().filter { synced.contains($0.element) }
        let anyChanged = tracked.isEmpty ? "0" : tracked.map { Self.differs($0.element) }.joined(separator: " OR ")
        let changedMasks: [String] = (0..<maskWords).map { word in
            let terms = tracked.filter { $0.offset / Self.bitsPerWord == word }.map {
                "(CASE WHEN \(Self.differs($0.element)) THEN \(Int64(1) << Int64($0.offset % Self.bitsPerWord)) ELSE 0 END)"
            }
            return terms.isEmpty ? "0" : terms.joined(separator: " | ")
        }
        let mergeMasks = maskColumns.map { "\($0) = \($0) | excluded.\($0)" }.joined(separator: ", ")
        return [
            """
            CREATE TRIGGER \(triggerName("insert")) AFTER INSERT ON \(table)
            WHEN \(Self.guardClause)
            BEGIN \(logInsert(keyFrom: "NEW", masks: allBits, merge: setAllBits)) END
            """,
            """
            CREATE TRIGGER \(triggerName("update")) AFTER UPDATE ON \(table)
            WHEN \(Self.guardClause) AND \(keyUnchanged) AND (\(anyChanged))
            BEGIN \(logInsert(keyFrom: "NEW", masks: changedMasks, merge: mergeMasks)) END
            """,
            """
            CREATE TRIGGER \(triggerName("rekey")) AFTER UPDATE ON \(table)
            WHEN \(Self.guardClause) AND NOT (\(keyUnchanged))
            BEGIN
            \(logInsert(keyFrom: "OLD", masks: allBits, merge: setAllBits))
            \(logInsert(keyFrom: "NEW", masks: allBits, merge: setAllBits))
            END
            """,
            """
            CREATE TRIGGER \(triggerName("delete")) AFTER DELETE ON \(table)
            WHEN \(Self.guardClause)
            BEGIN \(logInsert(keyFrom: "OLD", masks: allBits, merge: setAllBits)) END
            """,
        ]
    }

    var dropTriggers: [String] { triggerNames.map { "DROP TRIGGER IF EXISTS \($0)" } }
}
