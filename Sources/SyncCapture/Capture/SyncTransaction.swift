import Foundation
import GRDB
import SQLiteValues
import SyncCore

/// dealersync's state as seen inside one write transaction on the DMS file: the schema,
/// the registered tables and their live shapes, this node's write counter and HLC, and the
/// versions stamped so far. Stamping and applying both run through it, so that pending
/// local changes get their dots in the same transaction that merges remote versions.
final class SyncTransaction {
    let db: Database
    let node: NodeID
    let schema: SyncSchema
    private(set) var counter: UInt64
    var clock: HybridLogicalClock
    let wallMillis: Int64
    private(set) var registrations: [String: TableRegistration] = [:]
    private(set) var shapes: [String: TableShape] = [:]
    /// Versions stamped from local changes in this transaction, for the outbox.
    private(set) var stamped: [RowVersion] = []
    /// For `hashed` columns: what leaves the store is protected in `finish()`.
    private let hashKey: ColumnHashKey?
    /// The schema's masked and hashed columns (docs/PRIVACY.md).
    private(set) lazy var protection = ColumnProtection(schema: schema, key: hashKey)
    private var nodeIDs: [NodeID: Int] = [:]
    private var nodesByID: [Int: NodeID] = [:]
    /// Per-table column lists and statements used for every row, worked out once per
    /// transaction: building and hashing the SQL text for each row was a tenth of the
    /// agent's CPU when stamping 200k rows (BENCHMARKS.md).
    private var rowAccess: [String: RowAccess] = [:]
    private var clockStatements: (select: Statement, save: Statement)?

    private struct RowAccess {
        let valueColumns: [String]
        let liveColumns: Set<String>
        let selectValues: Statement
    }

    init(_ db: Database, node: NodeID, wallMillis: Int64, hashKey: ColumnHashKey?) throws {
        self.db = db
        self.hashKey = hashKey
        self.node = node
        self.wallMillis = wallMillis
        schema = try SyncTables.installedSchema(db)
        counter = UInt64(try SyncTables.meta(db, .counter).flatMap(Int64.fromDatabaseValue) ?? 0)
        clock = HybridLogicalClock(
            last: HLCTimestamp(rawValue: UInt64(bitPattern: try SyncTables.meta(db, .hlcLast).flatMap(Int64.fromDatabaseValue) ?? 0)),
            offsetMillis: try SyncTables.meta(db, .hlcOffset).flatMap(Int64.fromDatabaseValue) ?? 0)
        for row in try Row.fetchAll(db, sql: "SELECT id, node FROM _dealersync_nodes") {
            let node = try NodeID(row["node"] as String)
            nodeIDs[node] = row["id"]
            nodesByID[row["id"]] = node
        }
        for registration in try TableRegistration.all(db) {
            registrations[registration.name] = registration
            let spec = schema.table(named: registration.name)
            if let shape = try spec.map({ try TableShape.read(db, for: $0) }) ?? TableShape.read(db, table: registration.name) {
                shapes[registration.name] = shape
            }
        }
    }

    func nextWrite() -> (Dot, HLCTimestamp) {
        counter += 1
        return (Dot(node: node, counter: counter), clock.now(wallMillis: wallMillis))
    }

    // MARK: - Rows and clocks

    /// The DMS row's value columns, or nil if the row does not exist.
    func dmsValues(_ shape: TableShape, key: RowKey) throws -> [String: SQLValue]? {
        try dmsValues(try rowAccess(shape), key: key)
    }

    private func dmsValues(_ access: RowAccess, key: RowKey) throws -> [String: SQLValue]? {
        guard let row = try Row.fetchOne(access.selectValues, arguments: StatementArguments(key.values.map(\.databaseValue))) else {
            return nil
        }
        var values: [String: SQLValue] = [:]
        values.reserveCapacity(access.valueColumns.count)
        for (index, column) in access.valueColumns.enumerated() { values[column] = SQLValue(databaseValue: row[index]) }
        return values
    }

    private func rowAccess(_ shape: TableShape) throws -> RowAccess {
        if let access = rowAccess[shape.name] { return access }
        let columns = shape.valueColumns
        let select = columns.isEmpty ? "1" : columns.map(quoted).joined(separator: ", ")
        let access = RowAccess(
            valueColumns: columns, liveColumns: Set(columns),
            selectValues: try db.makeStatement(
                sql: "SELECT \(select) FROM \(quoted(shape.name)) WHERE \(Self.keyMatch(shape.primaryKey))"))
        rowAccess[shape.name] = access
        return access
    }

    private func clockStatement() throws -> (select: Statement, save: Statement) {
        if let statements = clockStatements { return statements }
        let statements = (
            select: try db.makeStatement(sql: "SELECT clock FROM _dealersync_clock WHERE table_id = ? AND key = ?"),
            save: try db.makeStatement(
                sql: "INSERT INTO _dealersync_clock (table_id, key, clock) VALUES (?, ?, ?) ON CONFLICT(table_id, key) DO UPDATE SET clock = excluded.clock"))
        clockStatements = statements
        return statements
    }

    static func keyMatch(_ primaryKey: [String]) -> String {
        primaryKey.map { "\(quoted($0)) IS ?" }.joined(separator: " AND ")
    }

    func storedVersion(_ registration: TableRegistration, key: RowKey, dmsValues: [String: SQLValue]?) throws -> RowVersion? {
        guard let data = try Data.fetchOne(try clockStatement().select, arguments: [registration.id, Data(key.bytes)]) else { return nil }
        return try ClockRecord.decode(
            Array(data), table: registration.name, key: key, bitColumns: registration.bitColumns, dmsValues: dmsValues,
            node: { self.nodesByID[$0] })
    }

    /// Saves the row's clock record, with the digest of the values the DMS holds now:
    /// `dmsValues` when the caller has just read them, else read here (after an apply, the
    /// DMS's column affinity may have changed what was written).
    func save(_ version: RowVersion, _ registration: TableRegistration, dmsValues: [String: SQLValue]? = nil) throws {
        let shape = shapes[registration.name]
        let live = try shape.map { try rowAccess($0).liveColumns } ?? []
        var record = try ClockRecord.encode(version, bitColumns: registration.bitColumns, liveColumns: live, nodeRef: nodeRef)
        if version.isAlive(policy: policy(registration.name)), let shape,
            let values = try dmsValues ?? self.dmsValues(try rowAccess(shape), key: version.key)
        {
            record = ClockRecord.appending(RowDigest.of(values, bitColumns: registration.bitColumns), to: record)
        }
        try clockStatement().save.execute(arguments: [registration.id, Data(version.key.bytes), Data(record)])
    }

    /// The digest saved with the row's clock record; nil when there is no record, or it
    /// predates digests.
    func storedDigest(_ registration: TableRegistration, key: RowKey) throws -> (exists: Bool, digest: RowDigest?) {
        guard let data = try Data.fetchOne(try clockStatement().select, arguments: [registration.id, Data(key.bytes)]) else {
            return (false, nil)
        }
        return (true, ClockRecord.digest(in: Array(data)))
    }

    /// The small number standing for `node` in clock records, registering it on first use.
    private func nodeRef(_ node: NodeID) throws -> Int {
        if let id = nodeIDs[node] { return id }
        try db.execute(sql: "INSERT INTO _dealersync_nodes (node) VALUES (?)", arguments: [node.rawValue])
        let id = Int(db.lastInsertedRowID)
        nodeIDs[node] = id
        nodesByID[id] = node
        return id
    }

    // MARK: - Stamping local changes

    /// Gives a captured change its dot: reads the row as the DMS holds it now, updates the
    /// clock metadata, and adds the new version to the outbox of this transaction.
    func stamp(_ registration: TableRegistration, key: RowKey, changed: [String]) throws {
        guard let shape = shapes[registration.name] else { return }
        let access = try rowAccess(shape)
        let values = try dmsValues(access, key: key)
        let stored = try storedVersion(registration, key: key, dmsValues: values)
        var version: RowVersion
        if let values {
            if var existing = stored {
                let wasAlive = existing.isAlive(policy: policy(registration.name))
                let written = wasAlive ? changed.filter(access.liveColumns.contains) : access.valueColumns
                // Only columns that are no longer in the table changed: nothing to send.
                if wasAlive && written.isEmpty { return }
                let (dot, hlc) = nextWrite()
                existing.write(values.filter { written.contains($0.key) }, dot: dot, hlc: hlc)
                version = existing
            } else {
                let (dot, hlc) = nextWrite()
                version = .inserted(table: registration.name, key: key, values: values, dot: dot, hlc: hlc)
            }
        } else {
            // Gone from the DMS: a delete, unless the row was never pushed or is already deleted.
            guard var existing = stored, existing.isAlive(policy: policy(registration.name)) else { return }
            let (dot, hlc) = nextWrite()
            existing.delete(dot: dot, hlc: hlc)
            version = existing
        }
        // A column the schema made local after the row was first sent is still in its
        // clock record: it goes no further than here.
        if let local = schema.table(named: registration.name)?.localColumns, !local.isEmpty { version.removeColumns(local) }
        try save(version, registration, dmsValues: values)
        stamped.append(version)
    }

    func policy(_ table: String) -> MergePolicy { schema.table(named: table)?.policy ?? .lastWriterWins }

    /// Stamps up to `limit` pending change-log entries, oldest first per table, in schema order.
    func stampPending(limit: Int) throws {
        var remaining = limit
        for table in schema.tables where table.direction.dealerPushes && remaining > 0 {
            guard let registration = registrations[table.name], shapes[table.name] != nil else { continue }
            let keyColumns = registration.logKeyColumns
            let masks = registration.logMaskColumns
            let entries = try Row.fetchAll(
                db,
                sql: "SELECT rowid, \((keyColumns + masks).joined(separator: ", ")) FROM \(registration.logTable) ORDER BY rowid LIMIT \(remaining)")
            for entry in entries {
                try stamp(registration, entry: entry, keyCount: keyColumns.count, maskCount: masks.count)
            }
            // The entries read are exactly those up to the last rowid read (oldest first,
            // and nothing else writes the log inside this transaction).
            if let last = entries.last {
                try db.execute(sql: "DELETE FROM \(registration.logTable) WHERE rowid <= ?", arguments: [last[0] as Int64])
            }
            remaining -= entries.count
        }
    }

    /// Stamps the pending entry for one row, if there is one (before merging a remote version).
    func stampPending(_ registration: TableRegistration, key: RowKey) throws {
        guard schema.table(named: registration.name)?.direction.dealerPushes == true else { return }
        let keyColumns = registration.logKeyColumns
        let masks = registration.logMaskColumns
        let statement = try db.cachedStatement(
            sql: "SELECT rowid, \((keyColumns + masks).joined(separator: ", ")) FROM \(registration.logTable) WHERE \(registration.logKeyMatch)")
        if let entry = try Row.fetchOne(statement, arguments: StatementArguments(key.values.map(\.databaseValue))) {
            try stamp(registration, entry: entry, keyCount: keyColumns.count, maskCount: masks.count)
            try db.execute(sql: "DELETE FROM \(registration.logTable) WHERE rowid = ?", arguments: [entry[0] as Int64])
        }
    }

    /// Stamps the row a change-log entry (rowid, key columns, change masks) names.
    private func stamp(_ registration: TableRegistration, entry: Row, keyCount: Int, maskCount: Int) throws {
        let key = RowKey((1...keyCount).map { SQLValue(databaseValue: entry[$0]) })
        let masks: [Int64] = (0..<maskCount).map { entry[1 + keyCount + $0] }
        try stamp(registration, key: key, changed: registration.changedColumns(masks: masks))
    }

    // MARK: - Finishing

    static func hashKeyMissing(table: String) -> CaptureError {
        CaptureError(
            .hashKeyMissing, "the sync schema hashes columns of '\(table)', and this agent has no hash key",
            hint: "set `hash_key_file` in agent.yaml to the fleet's key file (the same at every store; docs/PRIVACY.md)")
    }

    /// Writes the stamped versions as one outbox batch and saves the counter and clock.
    func finish() throws {
        try SyncTables.setMeta(db, .counter, Int64(counter))
        try SyncTables.setMeta(db, .hlcLast, Int64(bitPattern: clock.last.rawValue))
        try SyncTables.setMeta(db, .hlcOffset, clock.offsetMillis)
        guard !stamped.isEmpty else { return }
        let counters = stamped.map { $0.versionVector[node] }
        // The clock records keep what the DMS holds; only the batch carries masked and
        // hashed columns in their protected forms (docs/PRIVACY.md).
        if let table = protection.tablesMissingKey.first(where: { table in stamped.contains { $0.table == table } }) {
            throw Self.hashKeyMissing(table: table)
        }
        let batch = Batch(
            dealer: node, schemaVersion: schema.version, firstSequence: counters.min()!, lastSequence: counters.max()!,
            rows: protection.isEmpty ? stamped : stamped.map(protection.protect))
        let body = Gzip.compress(batch.encoded())
        try db.execute(
            sql: """
                INSERT INTO _dealersync_outbox (first_sequence, last_sequence, row_count, body, sha256, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                Int64(batch.firstSequence), Int64(batch.lastSequence), stamped.count, Data(body),
                BodyChecksum.sha256Hex(body), wallMillis,
            ])
        stamped = []
    }
}
