/// Generates the capture triggers and change-log table for one synced table.
///
/// The triggers are plain SQL (no application functions), so they fire for every writer:
/// the DMS, the sqlite3 shell, Python. Each DMS commit records, in its own transaction,
/// which rows changed and which columns: one log row per primary key, with a bit mask of
/// changed columns (62 columns per mask word). Repeated changes to a row coalesce into its
/// one log row (`ON CONFLICT … DO UPDATE`), an UPDATE that changes nothing records nothing,
/// and a primary-key change records the old key (now missing: a delete) and the new key.
///
/// REPLACE (`INSERT OR REPLACE`, `UPDATE OR REPLACE`, a column `UNIQUE ON CONFLICT REPLACE`)
/// removes a row that holds the new row's values in a UNIQUE index without firing DELETE
/// triggers (SQLite fires them only with `recursive_triggers`, a setting of the DMS's own
/// connection). So per UNIQUE index, BEFORE INSERT and BEFORE UPDATE triggers log every other
/// row the new values collide with, with an empty mask and `DO NOTHING`: stamping reads the
/// row then, sends a delete if it is gone and nothing if it is still there (OR IGNORE, an
/// UPSERT's DO UPDATE, an INSERT that failed with its statement rolled back).
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
    /// The triggers, in `createTriggers` order.
    var triggerNames: [String] { rowTriggerNames + shape.uniqueIndexes.indices.flatMap(uniqueTriggerNames) }

    /// The four triggers every captured table has, whatever its indexes.
    var rowTriggerNames: [String] { ["insert", "update", "rekey", "delete"].map(triggerName) }

    private func uniqueTriggerNames(_ index: Int) -> [String] {
        [triggerName("unique\(index)_insert"), triggerName("unique\(index)_update")]
    }

    /// UNIQUE-index trigger slots dropped beyond the current ones, for when the table had more
    /// UNIQUE indexes when the triggers were last built: a stale trigger would go on firing
    /// for a dropped index, and SQLite refuses to drop a column that a trigger names.
    static let staleUniqueSlots = 32

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

    /// BEFORE triggers logging, with an empty mask, each other row holding the new values in
    /// one UNIQUE index: compared with `=` under the index's collation, so NULLs never match,
    /// as in the index. A row with the new row's key is that row, or one a REPLACE on the
    /// primary key removes, whose key the new row's log entry already names.
    private func uniqueTriggers(_ index: [TableShape.UniqueColumn], number: Int) -> [String] {
        let table = quoted(shape.name)
        let collides = index.map { "\(quoted($0.name)) = NEW.\(quoted($0.name)) COLLATE \(quoted($0.collation))" }
        let otherKey = "NOT (" + shape.primaryKey.map { "\(quoted($0)) IS NEW.\(quoted($0))" }.joined(separator: " AND ") + ")"
        let log = """
            INSERT INTO \(logTable) (\(keyColumns.joined(separator: ", ")), \(maskColumns.joined(separator: ", ")))
            SELECT \(shape.primaryKey.map(quoted).joined(separator: ", ")), \(maskColumns.map { _ in "0" }.joined(separator: ", ")) FROM \(table)
            WHERE \((collides + [otherKey]).joined(separator: " AND "))
            ON CONFLICT (\(keyColumns.joined(separator: ", "))) DO NOTHING;
            """
        let names = uniqueTriggerNames(number)
        return [
            """
            CREATE TRIGGER \(names[0]) BEFORE INSERT ON \(table)
            WHEN \(Self.guardClause)
            BEGIN \(log) END
            """,
            """
            CREATE TRIGGER \(names[1]) BEFORE UPDATE OF \(index.map { quoted($0.name) }.joined(separator: ", ")) ON \(table)
            WHEN \(Self.guardClause)
            BEGIN \(log) END
            """,
        ]
    }

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
        let rowTriggers: [String] = [
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
        var unique: [String] = []
        for (number, index) in shape.uniqueIndexes.enumerated() {
            unique += uniqueTriggers(index, number: number)
        }
        return rowTriggers + unique
    }

    var dropTriggers: [String] {
        let count = shape.uniqueIndexes.count
        return (triggerNames + (count..<(count + Self.staleUniqueSlots)).flatMap(uniqueTriggerNames))
            .map { "DROP TRIGGER IF EXISTS \($0)" }
    }
}
