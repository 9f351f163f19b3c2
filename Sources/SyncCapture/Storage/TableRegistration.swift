import Foundation
import GRDB

/// A synced table as dealersync registered it: its id (which names the log table and
/// triggers), its columns in change-mask bit order, and its snapshot progress.
struct TableRegistration: Hashable {
    var id: Int64
    var name: String
    /// Value columns in bit order. Appended to when the DMS adds a column; never reordered.
    var bitColumns: [String]
    var primaryKey: [String]
    var signature: String
    var maskWords: Int
    var snapshotDone: Bool
    var problem: String?

    func builder(for shape: TableShape) -> TriggerBuilder {
        TriggerBuilder(tableID: id, shape: shape, bitColumns: bitColumns)
    }

    var logTable: String { "_dealersync_log_\(id)" }
    /// The change log's key columns (`k0`, `k1`, …, one per primary-key column) and its
    /// change-mask columns (`m0`, …); `TriggerBuilder` creates them.
    var logKeyColumns: [String] { primaryKey.indices.map { "k\($0)" } }
    var logMaskColumns: [String] { (0..<maskWords).map { "m\($0)" } }
    /// `k0 IS ? AND …`: the log entry of one key (bind the key's values).
    var logKeyMatch: String { logKeyColumns.map { "\($0) IS ?" }.joined(separator: " AND ") }

    /// The columns whose bits are set in a log entry's change masks (bit order: `bitColumns`,
    /// `TriggerBuilder.bitsPerWord` bits per mask word).
    func changedColumns(masks: [Int64]) -> [String] {
        var names: [String] = []
        for (index, name) in bitColumns.enumerated() {
            let word = index / TriggerBuilder.bitsPerWord
            guard word < masks.count else { continue }
            if masks[word] & (Int64(1) << Int64(index % TriggerBuilder.bitsPerWord)) != 0 { names.append(name) }
        }
        return names
    }

    static func all(_ db: Database) throws -> [TableRegistration] {
        try Row.fetchAll(db, sql: "SELECT * FROM _dealersync_tables ORDER BY id").map(Self.init(row:))
    }

    static func named(_ db: Database, _ name: String) throws -> TableRegistration? {
        try Row.fetchOne(db, sql: "SELECT * FROM _dealersync_tables WHERE name = ?", arguments: [name]).map(Self.init(row:))
    }

    init(row: Row) throws {
        id = row["id"]
        name = row["name"]
        bitColumns = try JSONDecoder().decode([String].self, from: Data((row["columns"] as String).utf8))
        primaryKey = try JSONDecoder().decode([String].self, from: Data((row["primary_key"] as String).utf8))
        signature = row["signature"]
        maskWords = row["mask_words"]
        snapshotDone = row["snapshot_done"]
        problem = row["problem"]
    }

    init(id: Int64, name: String, bitColumns: [String], primaryKey: [String], signature: String, maskWords: Int) {
        self.id = id
        self.name = name
        self.bitColumns = bitColumns
        self.primaryKey = primaryKey
        self.signature = signature
        self.maskWords = maskWords
        self.snapshotDone = false
        self.problem = nil
    }

    func save(_ db: Database) throws {
        let columns = String(decoding: try JSONEncoder().encode(bitColumns), as: UTF8.self)
        let key = String(decoding: try JSONEncoder().encode(primaryKey), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO _dealersync_tables (id, name, columns, primary_key, signature, mask_words, snapshot_done, problem)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET columns = excluded.columns, primary_key = excluded.primary_key,
                    signature = excluded.signature, mask_words = excluded.mask_words,
                    snapshot_done = excluded.snapshot_done, problem = excluded.problem
                """,
            arguments: [id, name, columns, key, signature, maskWords, snapshotDone, problem])
    }
}
