import Foundation
import GRDB
import SQLiteValues
import SyncCore

/// What `dealersync init` did.
public struct InstallReport: Hashable, Sendable {
    public var tables: [String]
    public var snapshotRows: Int
    public var alreadyInstalled: Bool
    /// Schema tables the DMS has not created yet (a module not installed yet): not
    /// registered, since their key columns are unknown until they exist.
    public var waitingTables: [String] = []
    /// One line per waiting table, for the operator.
    public var warnings: [String] = []
}

/// CaptureProgress of a long step, for a progress line: `snapshot customers 12000/48213`.
public struct CaptureProgress: Hashable, Sendable {
    public var step: String
    public var table: String
    public var done: Int
    public var total: Int
}

extension DealerDatabase {
    /// Checks every table of `schema` against the live DMS schema without changing anything.
    /// Refuses a table without a primary key, a `both` table keyed by an INTEGER rowid, and a
    /// name that differs from a DMS table's only in case. Returns a warning for each table
    /// the DMS has not created yet (see `install`).
    @discardableResult
    public func validate(schema: SyncSchema) throws -> [String] {
        try requireHashKey(for: schema)
        return try read { db in try Self.validatedTables(db, schema).map(Self.waitingWarning) }
    }

    /// A schema that hashes columns needs the fleet's key here before anything is captured.
    func requireHashKey(for schema: SyncSchema) throws {
        if let table = ColumnProtection(schema: schema, key: settings.hashKey).tablesMissingKey.first {
            throw SyncTransaction.hashKeyMissing(table: table)
        }
    }

    /// Validates every table of `schema` that exists; returns those the DMS has not created yet.
    static func validatedTables(_ db: Database, _ schema: SyncSchema) throws -> [TableSpec] {
        var waiting: [TableSpec] = []
        for table in schema.tables {
            if try notCreatedYet(db, table) {
                waiting.append(table)
            } else {
                _ = try validatedShape(db, table)
            }
        }
        return waiting
    }

    /// Whether the DMS has simply not created `table` yet: no table or view of that name,
    /// not even in another case. A name that differs from an existing one only in case is a
    /// typo (SQLite names are case-insensitive, so the DMS could never create it): it stays
    /// refused by `validatedShape`.
    static func notCreatedYet(_ db: Database, _ table: TableSpec) throws -> Bool {
        guard try TableShape.read(db, table: table.name) == nil else { return false }
        let similar = try Bool.fetchOne(
            db, sql: "SELECT count(*) > 0 FROM sqlite_schema WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE",
            arguments: [table.name]) ?? false
        return !similar
    }

    static func waitingWarning(_ table: TableSpec) -> String {
        table.direction.dealerPulls
            ? "table '\(table.name)' is not in the DMS database yet: rows HQ sends for it wait until it exists"
            : "table '\(table.name)' is not in the DMS database yet: its rows sync once it exists"
    }

    static func validatedShape(_ db: Database, _ table: TableSpec) throws -> TableShape {
        guard let shape = try TableShape.read(db, for: table) else {
            throw CaptureError(
                .tableMissing, "table '\(table.name)' is in the sync schema but not in the DMS database",
                hint: "check the table name (it is case-sensitive) or remove it from the sync schema")
        }
        if let column = shape.primaryKey.first(where: table.localColumns.contains) {
            throw CaptureError(
                .schemaMismatch, "the sync schema keeps key column '\(column)' of '\(table.name)' local, but the key travels with every row",
                hint: "remove '\(column)' from the table's `local:` list")
        }
        guard !shape.primaryKey.isEmpty else {
            throw CaptureError(
                .noPrimaryKey, "table '\(table.name)' has no primary key, so its rows cannot be told apart across stores",
                hint: "give the table a PRIMARY KEY in the DMS, or leave it out of the sync schema")
        }
        if table.direction == .both && shape.keyIsRowid {
            throw CaptureError(
                .rowidKeyOnSharedTable,
                "table '\(table.name)' syncs both ways but its key '\(shape.primaryKey[0])' is an INTEGER rowid: every store numbers rows 1, 2, 3, so keys collide across stores",
                hint: "set direction: up for '\(table.name)' (HQ then keys rows by dealer), or key it by a UUID, VIN or other text key")
        }
        return shape
    }

    /// `dealersync init`: creates dealersync's tables and the capture triggers, then
    /// snapshots existing rows into the change log in short transactions. Idempotent: a
    /// second run changes nothing, and an interrupted snapshot resumes where it stopped.
    ///
    /// A schema table the DMS has not created yet (a module not installed yet) does not
    /// fail `init`: it is left unregistered (no log table, no triggers: its key is unknown
    /// until it exists) and named in `warnings`. Rows HQ sends for it are held until it
    /// exists and is registered (`HeldRows`); running `init` again then registers it.
    public func install(schema: SyncSchema, progress: (CaptureProgress) -> Void = { _ in }) throws -> InstallReport {
        try requireHashKey(for: schema)
        let alreadyInstalled = try read { db in try SyncTables.isInstalled(db) }
        let waiting = try write { db -> [TableSpec] in
            let notCreated = try Self.validatedTables(db, schema)
            let notCreatedNames = Set(notCreated.map(\.name))
            try SyncTables.migrate(db)
            if let installed = try SyncTables.meta(db, .node).flatMap({ String.fromDatabaseValue($0) }), installed != node.rawValue {
                throw CaptureError(
                    .otherNode, "this DMS database is already set up as node \(installed), not \(node.rawValue)",
                    hint: "use node_id \(installed) in the agent config, or run `dealersync init --remove` first to start over")
            }
            try SyncTables.setMeta(db, .node, node.rawValue)
            try SyncTables.setMeta(db, .schemaVersion, Int64(schema.version))
            try SyncTables.setMeta(db, .schema, schema.yaml())
            for table in schema.tables where !notCreatedNames.contains(table.name) {
                try Self.register(db, table: table)
            }
            return notCreated
        }
        let waitingNames = Set(waiting.map(\.name))
        let captured = schema.tables.filter { $0.direction.dealerPushes && !waitingNames.contains($0.name) }
        var snapshotRows = 0
        for table in captured {
            snapshotRows += try snapshot(table: table.name, progress: progress)
        }
        return InstallReport(
            tables: captured.map(\.name), snapshotRows: snapshotRows, alreadyInstalled: alreadyInstalled,
            waitingTables: waiting.map(\.name), warnings: waiting.map(Self.waitingWarning))
    }

    /// Registers a table (or brings its registration up to date with the live schema) and
    /// (re)creates its log table and triggers. Runs inside the caller's transaction.
    static func register(_ db: Database, table: TableSpec) throws {
        let shape = try validatedShape(db, table)
        var registration: TableRegistration
        var isNew = false
        var added: [String] = []
        if var existing = try TableRegistration.named(db, table.name) {
            guard existing.primaryKey == shape.primaryKey else {
                throw CaptureError(
                    .schemaMismatch, "the primary key of '\(table.name)' changed since `init`",
                    hint: "run `dealersync init --remove` and `dealersync init` again, then `dealersync resync`")
            }
            // New columns get new bits at the end; dropped ones keep theirs, unused.
            added = shape.valueColumns.filter { !existing.bitColumns.contains($0) }
            existing.bitColumns += added
            existing.signature = shape.signature
            existing.problem = nil
            registration = existing
        } else {
            isNew = true
            let nextID = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM _dealersync_tables") ?? 0) + 1
            registration = TableRegistration(
                id: nextID, name: table.name, bitColumns: shape.valueColumns, primaryKey: shape.primaryKey,
                signature: shape.signature, maskWords: 1)
        }
        let builder = registration.builder(for: shape)
        try db.execute(sql: builder.createLogTable)
        for word in registration.maskWords..<builder.maskWords {
            try db.execute(sql: "ALTER TABLE \(builder.logTable) ADD COLUMN m\(word) INTEGER NOT NULL DEFAULT 0")
        }
        registration.maskWords = max(registration.maskWords, builder.maskWords)
        for statement in builder.dropTriggers { try db.execute(sql: statement) }
        // Only tables the dealer pushes are captured; `down` tables are only applied to.
        if table.direction.dealerPushes {
            for statement in builder.createTriggers { try db.execute(sql: statement) }
            try logValuesOfAddedColumns(db, added, registration: registration, builder: builder)
        } else {
            registration.snapshotDone = true
        }
        try registration.save(db)
        // A new table is captured from here on (its snapshot queues the rows already in
        // it); `CaptureCheck` compares its triggers and b-tree with these from now on.
        if isNew {
            try db.execute(
                sql: "UPDATE _dealersync_tables SET capture_state = 'ok', capture_reason = '', root_page = ? WHERE id = ?",
                arguments: [try CaptureCheck.rootPage(db, table.name), registration.id])
        }
    }

    /// Queues the values a DMS upgrade put in columns it added (`ALTER TABLE … ADD COLUMN …
    /// DEFAULT`, then a data migration's UPDATE) before the triggers knew the columns: the old
    /// update trigger did not look at them, and row digests leave out columns added later.
    /// Only non-NULL values: a column HQ and the other stores do not have yet reads NULL there.
    private static func logValuesOfAddedColumns(_ db: Database, _ added: [String], registration: TableRegistration, builder: TriggerBuilder) throws {
        guard !added.isEmpty, registration.snapshotDone else { return }
        let bits = added.compactMap { column in registration.bitColumns.firstIndex(of: column).map { (column, $0) } }
        let masks = builder.maskColumns.indices.map { word in
            let terms = bits.filter { $0.1 / TriggerBuilder.bitsPerWord == word }
                .map { "(CASE WHEN \(quoted($0.0)) IS NOT NULL THEN \(Int64(1) << Int64($0.1 % TriggerBuilder.bitsPerWord)) ELSE 0 END)" }
            return terms.isEmpty ? "0" : terms.joined(separator: " | ")
        }
        let keys = builder.keyColumns.joined(separator: ", ")
        try db.execute(sql: """
            INSERT INTO \(builder.logTable) (\(keys), \(builder.maskColumns.joined(separator: ", ")))
            SELECT \(registration.primaryKey.map(quoted).joined(separator: ", ")), \(masks.joined(separator: ", ")) FROM \(quoted(registration.name))
            WHERE \(added.map { "\(quoted($0)) IS NOT NULL" }.joined(separator: " OR "))
            ON CONFLICT (\(keys)) DO UPDATE SET \(builder.maskColumns.map { "\($0) = \($0) | excluded.\($0)" }.joined(separator: ", "))
            """)
    }

    /// Copies the keys of existing rows into the change log, chunk by chunk, each chunk its
    /// own short transaction. The chunk size adapts so a chunk holds the write lock for at
    /// most `settings.maxLockMillis`. Triggers are already in place, so DMS writes during the
    /// snapshot are captured too (and coalesce with the snapshot's entries).
    func snapshot(table name: String, progress: (CaptureProgress) -> Void) throws -> Int {
        let (registration, total) = try read { db -> (TableRegistration?, Int) in
            (try TableRegistration.named(db, name), try Int.fetchOne(db, sql: "SELECT count(*) FROM \(quoted(name))") ?? 0)
        }
        guard var registration, !registration.snapshotDone else { return 0 }
        let keys = registration.primaryKey.map(quoted)
        let logKeys = registration.logKeyColumns.joined(separator: ", ")
        let masks = (0..<registration.maskWords).map { _ in "-1" }.joined(separator: ", ")
        let maskNames = registration.logMaskColumns
        let shape = try read { db in try TableShape.read(db, table: name) }
        // Page by rowid where there is one (exact and fast), else by the key (NOT NULL in
        // WITHOUT ROWID tables).
        let cursorColumns = shape?.withoutRowID == true ? keys : ["rowid"]
        let cursorTuple = "(" + cursorColumns.joined(separator: ", ") + ")"

        var chunk = 500
        var done = 0
        var after: [DatabaseValue]? = nil
        if let saved = try read({ db in try DatabaseValue.fetchOne(db, sql: "SELECT snapshot_after FROM _dealersync_tables WHERE id = ?", arguments: [registration.id]) }),
            let blob = Data.fromDatabaseValue(saved), let decoded = try? RowKey(bytes: Array(blob))
        {
            after = decoded.values.map(\.databaseValue)
        }
        while true {
            let started = ContinuousClock.now
            let finished: Bool = try write { db in
                let placeholders = "(" + cursorColumns.map { _ in "?" }.joined(separator: ", ") + ")"
                let lowerBound = after == nil ? "1" : "\(cursorTuple) > \(placeholders)"
                let page = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(cursorColumns.joined(separator: ", ")) FROM \(quoted(name))
                        WHERE \(lowerBound) ORDER BY \(cursorColumns.joined(separator: ", ")) LIMIT \(chunk)
                        """,
                    arguments: StatementArguments(after ?? []))
                guard let last = page.last else {
                    registration.snapshotDone = true
                    try registration.save(db)
                    return true
                }
                let lastValues = cursorColumns.indices.map { last[$0] as DatabaseValue }
                try db.execute(
                    sql: """
                        INSERT INTO \(registration.logTable) (\(logKeys), \(maskNames.joined(separator: ", ")))
                        SELECT \(keys.joined(separator: ", ")), \(masks) FROM \(quoted(name))
                        WHERE \(lowerBound) AND \(cursorTuple) <= \(placeholders)
                        ON CONFLICT (\(logKeys)) DO UPDATE SET \(maskNames.map { "\($0) = -1" }.joined(separator: ", "))
                        """,
                    arguments: StatementArguments((after ?? []) + lastValues))
                after = lastValues
                let cursorKey = RowKey(lastValues.map(SQLValue.init(databaseValue:)))
                try db.execute(
                    sql: "UPDATE _dealersync_tables SET snapshot_after = ? WHERE id = ?",
                    arguments: [Data(cursorKey.bytes), registration.id])
                done += page.count
                return false
            }
            if finished { break }
            progress(CaptureProgress(step: "snapshot", table: name, done: done, total: total))
            // A quarter of the lock budget a chunk (see LockPacing), so that a slow disk
            // moment stays under it and a waiting DMS gets in at the pause.
            chunk = LockPacing.next(after: chunk, took: ContinuousClock.now - started, maxLockMillis: settings.maxLockMillis)
        }
        return done
    }

    /// `dealersync init --remove`: drops every `_dealersync_*` trigger and table. The DMS
    /// schema is left exactly as it was before `init`.
    public func remove() throws -> Int {
        try write { db in
            let objects = try SyncTables.allObjects(db)
            for object in objects {
                try db.execute(sql: "DROP \(object.type.uppercased()) IF EXISTS \(quoted(object.name))")
            }
            return objects.count
        }
    }
}
