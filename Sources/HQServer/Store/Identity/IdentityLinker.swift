import CustomerIdentity
import Foundation
import GRDB
import SyncCore

/// Links the stores' customer records into people (docs/IDENTITY.md), behind ingest: it
/// reads the people and vehicles rows merged past the sequence it has linked, in chunks,
/// each its own short write transaction in HQ's tables file.
///
/// For each changed record it keeps the record's normalised keys, recomputes the record's
/// automatic links (`LinkRules`), then regroups the records those links touch into people
/// (`PersonClusters`): a person keeps its global id as long as most of its records stay
/// together. Each touched person's golden record is rebuilt from its records' rows in the
/// people table (`Survivorship`).
///
/// Tables (schema `hq_tables`): `_dealersync_identity_records` (one per store record: keys,
/// dealer, person), `_dealersync_identity_links` (pairs with rule and confidence; manual
/// ones survive recomputation), `_dealersync_identity_splits` (pairs HQ said are different
/// people), `_dealersync_identity_vehicles` (every owner a VIN has had), `_dealersync_identity_state`,
/// and the golden table `<people>_golden` for HQ's tools.
struct IdentityLinker: Sendable {
    static let schemaName = HQTables.schemaName
    let spec: IdentitySpec
    let people: TableSpec
    let vehicles: TableSpec?
    /// A person's neighbourhood regrouped at once is cut off here, so a hostile store that
    /// types one ID number into thousands of records slows nothing down.
    static let maxNeighbourhood = 400
    /// At most this many records sharing one value are compared with a changed record.
    static let maxCandidates = 50

    init?(schema: SyncSchema) {
        guard let identity = schema.identity, let people = schema.table(named: identity.people.table) else { return nil }
        spec = identity
        self.people = people
        vehicles = identity.vehicles.flatMap { schema.table(named: $0.table) }
    }

    /// `customers_golden`: one row per person.
    var goldenTable: String { TableLayout.qualified("\(people.name)_golden") }

    static func ensure(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS \(schemaName)._dealersync_identity_records (
                _row_key BLOB PRIMARY KEY, key_json TEXT NOT NULL, dealer TEXT NOT NULL,
                mobile TEXT, id_number TEXT, name TEXT, birth_date TEXT,
                changed_at_ms INTEGER NOT NULL, by_hq INTEGER NOT NULL, person_id TEXT NOT NULL) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS \(schemaName)._dealersync_identity_by_mobile ON _dealersync_identity_records (mobile) WHERE mobile IS NOT NULL;
            CREATE INDEX IF NOT EXISTS \(schemaName)._dealersync_identity_by_id ON _dealersync_identity_records (id_number) WHERE id_number IS NOT NULL;
            CREATE INDEX IF NOT EXISTS \(schemaName)._dealersync_identity_by_person ON _dealersync_identity_records (person_id);
            CREATE TABLE IF NOT EXISTS \(schemaName)._dealersync_identity_links (
                a BLOB NOT NULL, b BLOB NOT NULL, rule TEXT NOT NULL, confidence REAL NOT NULL, made_by TEXT NOT NULL,
                made_at_ms INTEGER NOT NULL, PRIMARY KEY (a, b)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS \(schemaName)._dealersync_identity_links_b ON _dealersync_identity_links (b);
            CREATE TABLE IF NOT EXISTS \(schemaName)._dealersync_identity_splits (
                a BLOB NOT NULL, b BLOB NOT NULL, made_by TEXT NOT NULL, made_at_ms INTEGER NOT NULL, PRIMARY KEY (a, b)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS \(schemaName)._dealersync_identity_vehicles (
                vin TEXT NOT NULL, owner BLOB NOT NULL, vehicle BLOB NOT NULL, PRIMARY KEY (vin, owner)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS \(schemaName)._dealersync_identity_vehicles_owner ON _dealersync_identity_vehicles (owner);
            -- Values on so many records that they identify nobody (typed for others, or by a hostile store).
            CREATE TABLE IF NOT EXISTS \(schemaName)._dealersync_identity_shared (
                kind TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, value)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS \(schemaName)._dealersync_identity_state (
                id INTEGER PRIMARY KEY CHECK (id = 1), feed_seq INTEGER NOT NULL, next_person INTEGER NOT NULL);
            INSERT OR IGNORE INTO \(schemaName)._dealersync_identity_state (id, feed_seq, next_person) VALUES (1, 0, 1);
            CREATE TABLE IF NOT EXISTS \(schemaName)._dealersync_identity_lookups (
                at_ms INTEGER NOT NULL, who TEXT NOT NULL, kind TEXT NOT NULL, query_kind TEXT NOT NULL,
                person_id TEXT, records INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS \(schemaName)._dealersync_identity_lookups_by_who ON _dealersync_identity_lookups (who, at_ms);
            """)
    }

    /// The feed sequence linking has reached.
    static func linkedSequence(_ db: Database) throws -> Int64 {
        try db.cachedValue(Int64.self, sql: "SELECT feed_seq FROM \(schemaName)._dealersync_identity_state WHERE id = 1") ?? 0
    }

    // MARK: Linking the next changes

    /// Links the people and vehicles rows merged past the linked sequence, at most `limit`;
    /// returns how many rows it read.
    func advance(_ db: Database, limit: Int, layouts: [String: TableLayout]) throws -> Int {
        let after = try Self.linkedSequence(db)
        let names = [people.name] + (vehicles.map { [$0.name] } ?? [])
        let rows = try db.cachedRows(sql: """
                SELECT table_name, version, feed_seq FROM rows
                WHERE feed_seq > ? AND +table_name IN (\(names.map { _ in "?" }.joined(separator: ", "))) ORDER BY feed_seq LIMIT \(limit)
                """,
            arguments: StatementArguments([after] + names))
        guard let last = rows.last else { return 0 }
        try ensureIndexes(db, layouts: layouts)
        var touched = Set<RecordKey>()
        var vacated = Set<String>()
        for row in rows {
            let version = try RowVersion(canonicalBytes: Array(row["version"] as Data))
            let table: String = row["table_name"]
            if table == people.name {
                try personChanged(db, version, keyColumns: layouts[table]?.key ?? people.key ?? [], touched: &touched, vacated: &vacated)
            } else if let vehicles, table == vehicles.name {
                try vehicleChanged(db, version, spec: vehicles, keyColumns: layouts[table]?.key ?? vehicles.key ?? [], touched: &touched)
            }
        }
        try regroup(db, touched, vacated: vacated, golden: layouts[people.name])
        try db.cachedExecute(sql: "UPDATE \(Self.schemaName)._dealersync_identity_state SET feed_seq = ? WHERE id = 1", arguments: [last["feed_seq"] as Int64])
        return rows.count
    }

    /// Keeps the record's keys and recomputes its automatic links.
    private func personChanged(
        _ db: Database, _ merged: RowVersion, keyColumns: [String], touched: inout Set<RecordKey>, vacated: inout Set<String>
    ) throws {
        let record = RecordKey(Data(merged.key.bytes))
        touched.formUnion(try personMembers(db, of: record))
        touched.insert(record)
        try db.cachedExecute(sql: "DELETE FROM \(Self.schemaName)._dealersync_identity_links WHERE (a = ? OR b = ?) AND rule <> 'manual'",
            arguments: [record.bytes, record.bytes])
        guard merged.isAlive(policy: people.policy) else {
            // The person may have no record left: its golden record goes too (an erasure).
            if let person = try db.cachedValue(
                String.self, sql: "SELECT person_id FROM \(Self.schemaName)._dealersync_identity_records WHERE _row_key = ?", arguments: [record.bytes])
            {
                vacated.insert(person)
            }
            try db.cachedExecute(sql: "DELETE FROM \(Self.schemaName)._dealersync_identity_records WHERE _row_key = ?", arguments: [record.bytes])
            return
        }
        let values = Self.columnValues(merged, spec: people, keyColumns: keyColumns)
        let columns = spec.people
        let keys = PersonKeys(
            mobile: columns.mobile.flatMap { Self.text(values, $0) }, idNumber: columns.idNumber.flatMap { Self.text(values, $0) },
            name: columns.name.flatMap { Self.text(values, $0) }, birthDate: columns.birthDate.flatMap { Self.text(values, $0) })
        let latest = TablesWriter.latestWrite(merged)
        let keyJSON = String(decoding: try JSONEncoder.sorted.encode(merged.key.values.map(TypedValue.init)), as: UTF8.self)
        let person = try db.cachedValue(String.self, sql: "SELECT person_id FROM \(Self.schemaName)._dealersync_identity_records WHERE _row_key = ?", arguments: [record.bytes])
        try db.cachedExecute(sql: """
                INSERT INTO \(Self.schemaName)._dealersync_identity_records
                    (_row_key, key_json, dealer, mobile, id_number, name, birth_date, changed_at_ms, by_hq, person_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET key_json = excluded.key_json, dealer = excluded.dealer, mobile = excluded.mobile,
                    id_number = excluded.id_number, name = excluded.name, birth_date = excluded.birth_date,
                    changed_at_ms = excluded.changed_at_ms, by_hq = excluded.by_hq
                """,
            arguments: [
                record.bytes, keyJSON, QualityWriter.responsibleDealer(spec: people, merged: merged, values: values), keys.mobile,
                keys.idNumber, keys.name, keys.birthDate, Int64(latest.hlc.physicalMillis), latest.node == .hq,
                try person ?? newPersonID(db),
            ])
        try relink(db, record, keys: keys, touched: &touched)
    }

    /// Records an owner of a VIN and links the owners the VIN has had.
    private func vehicleChanged(_ db: Database, _ merged: RowVersion, spec: TableSpec, keyColumns: [String], touched: inout Set<RecordKey>) throws {
        guard let columns = self.spec.vehicles, merged.isAlive(policy: spec.policy) else { return }
        let values = Self.columnValues(merged, spec: spec, keyColumns: keyColumns)
        guard let vin = Self.text(values, columns.vin).flatMap(VehicleIdentificationNumber.normalize),
            let owner = Self.value(values, columns.owner), owner != .null
        else { return }
        let ownerKey = RecordKey(Data(RowKey([owner]).bytes))
        try db.cachedExecute(sql: "INSERT OR IGNORE INTO \(Self.schemaName)._dealersync_identity_vehicles (vin, owner, vehicle) VALUES (?, ?, ?)",
            arguments: [vin, ownerKey.bytes, Data(merged.key.bytes)])
        guard db.changesCount > 0, let keys = try self.keys(db, ownerKey) else { return }
        touched.insert(ownerKey)
        try relink(db, ownerKey, keys: keys, touched: &touched)
    }

    /// Writes `record`'s automatic links to the records that share a value with it.
    private func relink(_ db: Database, _ record: RecordKey, keys: PersonKeys, touched: inout Set<RecordKey>) throws {
        var candidates: [RecordKey: (keys: PersonKeys, sameVehicle: Bool)] = [:]
        var sharedMobile = false
        var keys = keys
        var sharedID: String?
        if let id = keys.idNumber {
            let holders = try records(db, where: "id_number = ?", [id])
            if try overHeld(db, column: "id_number", value: id, rule: .idNumber, holders: holders.count, touched: &touched) {
                // Compared as if absent: found through the mobile, the record must not link by it.
                sharedID = id
                keys.idNumber = nil
            } else {
                for (other, otherKeys) in holders { candidates[other] = (otherKeys, false) }
            }
        }
        if let mobile = keys.mobile {
            let holders = try records(db, where: "mobile = ?", [mobile])
            let names = Set(holders.map { $0.keys.name ?? "" } + [keys.name ?? ""])
            sharedMobile = try overHeld(db, column: "mobile", value: mobile, rule: .mobileAndName, holders: holders.count, touched: &touched)
                || names.count > spec.sharedLimit
            if sharedMobile {
                // The number now identifies nobody: links it made between others go too.
                let keysOfHolders = holders.map(\.record.bytes)
                for chunk in stride(from: 0, to: keysOfHolders.count, by: 200).map({ Array(keysOfHolders[$0..<min($0 + 200, keysOfHolders.count)]) }) {
                    let marks = chunk.map { _ in "?" }.joined(separator: ", ")
                    try db.cachedExecute(sql: "DELETE FROM \(Self.schemaName)._dealersync_identity_links WHERE rule = 'mobile_name' AND (a IN (\(marks)) OR b IN (\(marks)))",
                        arguments: StatementArguments(chunk + chunk))
                }
                touched.formUnion(holders.map(\.record))
            } else {
                for (other, otherKeys) in holders where candidates[other] == nil { candidates[other] = (otherKeys, false) }
            }
        }
        if vehicles != nil {
            let owners = try db.cachedRows(sql: """
                    SELECT DISTINCT o.owner FROM \(Self.schemaName)._dealersync_identity_vehicles v
                    JOIN \(Self.schemaName)._dealersync_identity_vehicles o ON o.vin = v.vin AND o.owner <> v.owner
                    WHERE v.owner = ? LIMIT \(Self.maxCandidates)
                    """,
                arguments: [record.bytes])
            for row in owners {
                let other = RecordKey(row["owner"] as Data)
                if let existing = candidates[other] {
                    candidates[other] = (existing.keys, true)
                } else if let otherKeys = try self.keys(db, other) {
                    candidates[other] = (otherKeys, true)
                }
            }
        }
        let splits = Set(try db.cachedValues(Data.self, sql: """
                SELECT CASE WHEN a = ?1 THEN b ELSE a END FROM \(Self.schemaName)._dealersync_identity_splits WHERE a = ?1 OR b = ?1
                """,
            arguments: [record.bytes]).map(RecordKey.init))
        let now = Date.nowMillis
        for (other, candidate) in candidates where other != record && !splits.contains(other) {
            var otherKeys = candidate.keys
            if let sharedID, otherKeys.idNumber == sharedID { otherKeys.idNumber = nil }
            guard let decision = LinkRules.decide(keys, otherKeys, sharedMobile: sharedMobile, sameVehicle: candidate.sameVehicle) else {
                continue
            }
            let (a, b) = record < other ? (record, other) : (other, record)
            try db.cachedExecute(sql: """
                    INSERT INTO \(Self.schemaName)._dealersync_identity_links (a, b, rule, confidence, made_by, made_at_ms) VALUES (?, ?, ?, ?, 'rules', ?)
                    ON CONFLICT DO UPDATE SET rule = excluded.rule, confidence = excluded.confidence, made_at_ms = excluded.made_at_ms
                    WHERE rule <> 'manual'
                    """,
                arguments: [a.bytes, b.bytes, decision.rule.rawValue, decision.confidence, now])
            touched.insert(other)
        }
    }

    /// Indexes on the columns a customer's history is found by (the vehicle owner, each
    /// history table's person or VIN column), once the SQL table has the column.
    private func ensureIndexes(_ db: Database, layouts: [String: TableLayout]) throws {
        var wanted: [(table: String, column: String)] = spec.history.map { ($0.table, $0.column) }
        if let vehicles = spec.vehicles { wanted.append((vehicles.table, vehicles.owner)) }
        for (table, column) in wanted {
            guard let layout = layouts[table], let name = layout.columns.first(where: { $0.name.lowercased() == column.lowercased() })?.name else { continue }
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(TableLayout.qualified("_dealersync_ix_identity_\(table)_\(name)")) ON \(quotedName(table)) (\(quotedName(name)))")
        }
    }

    /// Whether `value` is on so many records (`maxCandidates`) that it identifies nobody:
    /// one person is at a handful of stores, so it was typed for others, or by a hostile
    /// store. The first time, the value is remembered (`_dealersync_identity_shared`) and the
    /// links it made go; later records see it there at the cost of one lookup.
    private func overHeld(_ db: Database, column: String, value: String, rule: LinkRule, holders: Int, touched: inout Set<RecordKey>) throws -> Bool {
        guard holders >= Self.maxCandidates else { return false }
        try db.cachedExecute(sql: "INSERT OR IGNORE INTO \(Self.schemaName)._dealersync_identity_shared (kind, value) VALUES (?, ?)", arguments: [column, value])
        guard db.changesCount > 0 else { return true }
        let keys = try db.cachedValues(Data.self, sql: "SELECT _row_key FROM \(Self.schemaName)._dealersync_identity_records WHERE \(column) = ?", arguments: [value])
        for chunk in Self.chunks(keys) {
            let marks = chunk.map { _ in "?" }.joined(separator: ", ")
            let condition = "rule = ? AND (a IN (\(marks)) OR b IN (\(marks)))"
            let values: [DatabaseValueConvertible?] = [rule.rawValue] + chunk + chunk
            let arguments = StatementArguments(values)
            for row in try db.cachedRows(sql: "SELECT a, b FROM \(Self.schemaName)._dealersync_identity_links WHERE \(condition)", arguments: arguments) {
                touched.insert(RecordKey(row["a"] as Data))
                touched.insert(RecordKey(row["b"] as Data))
            }
            try db.cachedExecute(sql: "DELETE FROM \(Self.schemaName)._dealersync_identity_links WHERE \(condition)", arguments: arguments)
        }
        return true
    }

    // MARK: Manual links and splits

    /// Links two records by hand (a split between them is forgotten).
    func link(_ db: Database, _ a: RecordKey, _ b: RecordKey, by who: String, golden: TableLayout?) throws {
        let (x, y) = a < b ? (a, b) : (b, a)
        try db.cachedExecute(sql: "DELETE FROM \(Self.schemaName)._dealersync_identity_splits WHERE a = ? AND b = ?", arguments: [x.bytes, y.bytes])
        try db.cachedExecute(sql: """
                INSERT INTO \(Self.schemaName)._dealersync_identity_links (a, b, rule, confidence, made_by, made_at_ms) VALUES (?, ?, 'manual', 1, ?, ?)
                ON CONFLICT DO UPDATE SET rule = 'manual', confidence = 1, made_by = excluded.made_by, made_at_ms = excluded.made_at_ms
                """,
            arguments: [x.bytes, y.bytes, who, Date.nowMillis])
        try regroup(db, Set(try personMembers(db, of: a) + personMembers(db, of: b) + [a, b]), golden: golden)
    }

    /// Says two records are different people: their direct link goes, and no chain of links
    /// puts them into one person again. Remembered, so the rules never link them again.
    func split(_ db: Database, _ a: RecordKey, _ b: RecordKey, by who: String, golden: TableLayout?) throws {
        let (x, y) = a < b ? (a, b) : (b, a)
        try db.cachedExecute(sql: "DELETE FROM \(Self.schemaName)._dealersync_identity_links WHERE a = ? AND b = ?", arguments: [x.bytes, y.bytes])
        try db.cachedExecute(sql: "INSERT OR REPLACE INTO \(Self.schemaName)._dealersync_identity_splits (a, b, made_by, made_at_ms) VALUES (?, ?, ?, ?)",
            arguments: [x.bytes, y.bytes, who, Date.nowMillis])
        try regroup(db, Set(try personMembers(db, of: a) + personMembers(db, of: b) + [a, b]), golden: golden)
    }

    // MARK: Regrouping into people

    /// Regroups the records linked (directly or through others) to `touched` into people,
    /// gives each its global id, and rebuilds the golden records of every person involved.
    func regroup(_ db: Database, _ touched: Set<RecordKey>, vacated: Set<String> = [], golden layout: TableLayout?) throws {
        guard !touched.isEmpty || !vacated.isEmpty else { return }
        // The neighbourhood: every record reachable over links, and the rest of their people.
        var seen = touched
        var queue = Array(touched)
        while let record = queue.popLast(), seen.count < Self.maxNeighbourhood {
            var next = try db.cachedValues(Data.self, sql: """
                    SELECT b FROM \(Self.schemaName)._dealersync_identity_links WHERE a = ?1
                    UNION SELECT a FROM \(Self.schemaName)._dealersync_identity_links WHERE b = ?1
                    """,
                arguments: [record.bytes]).map(RecordKey.init)
            next += try personMembers(db, of: record)
            for other in next where seen.insert(other).inserted { queue.append(other) }
        }
        var keys: [RecordKey: PersonKeys] = [:]
        var previous: [RecordKey: String] = [:]
        for chunk in Self.chunks(Array(seen)) {
            for row in try db.cachedRows(sql: """
                    SELECT _row_key, mobile, id_number, name, birth_date, person_id FROM \(Self.schemaName)._dealersync_identity_records
                    WHERE _row_key IN (\(chunk.map { _ in "?" }.joined(separator: ", ")))
                    """,
                arguments: StatementArguments(chunk.map(\.bytes)))
            {
                let record = RecordKey(row["_row_key"] as Data)
                keys[record] = PersonKeys(normalizedMobile: row["mobile"], idNumber: row["id_number"], name: row["name"], birthDate: row["birth_date"])
                previous[record] = row["person_id"]
            }
        }
        var links: [PersonClusters.Link<RecordKey>] = []
        var apart: [(RecordKey, RecordKey)] = []
        for chunk in Self.chunks(Array(keys.keys)) {
            let marks = chunk.map { _ in "?" }.joined(separator: ", ")
            for row in try db.cachedRows(sql: "SELECT a, b, rule, confidence FROM \(Self.schemaName)._dealersync_identity_links WHERE a IN (\(marks))",
                arguments: StatementArguments(chunk.map(\.bytes)))
            {
                let a = RecordKey(row["a"] as Data), b = RecordKey(row["b"] as Data)
                guard keys[b] != nil, let rule = LinkRule(rawValue: row["rule"]) else { continue }
                links.append(.init(a: a, b: b, decision: LinkDecision(rule: rule, confidence: row["confidence"])))
            }
            for row in try db.cachedRows(sql: "SELECT a, b FROM \(Self.schemaName)._dealersync_identity_splits WHERE a IN (\(marks))",
                arguments: StatementArguments(chunk.map(\.bytes)))
            {
                apart.append((RecordKey(row["a"] as Data), RecordKey(row["b"] as Data)))
            }
        }
        let groups = PersonClusters.group(keys, links: links, apart: apart)
        // A person keeps the id most of its records had; the biggest groups choose first.
        var taken = Set<String>()
        var involved = Set(previous.values).union(vacated)
        for group in groups.sorted(by: { ($0.count, $1[0]) > ($1.count, $0[0]) }) {
            var votes: [String: Int] = [:]
            for record in group { if let id = previous[record] { votes[id, default: 0] += 1 } }
            let id = try votes.filter { !taken.contains($0.key) }.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? newPersonID(db)
            taken.insert(id)
            involved.insert(id)
            for record in group where previous[record] != id {
                try db.cachedExecute(sql: "UPDATE \(Self.schemaName)._dealersync_identity_records SET person_id = ? WHERE _row_key = ?", arguments: [id, record.bytes])
            }
        }
        if let layout, layout.spec.name == people.name {
            try GoldenRecord(linker: self, layout: layout).rebuild(db, persons: involved.sorted())
        }
    }

    // MARK: Reading

    /// The records of `record`'s person (itself included), before any change.
    func personMembers(_ db: Database, of record: RecordKey) throws -> [RecordKey] {
        try db.cachedValues(Data.self, sql: """
                SELECT _row_key FROM \(Self.schemaName)._dealersync_identity_records
                WHERE person_id = (SELECT person_id FROM \(Self.schemaName)._dealersync_identity_records WHERE _row_key = ?) LIMIT \(Self.maxNeighbourhood)
                """,
            arguments: [record.bytes]).map(RecordKey.init)
    }

    private func keys(_ db: Database, _ record: RecordKey) throws -> PersonKeys? {
        try records(db, where: "_row_key = ?", [record.bytes]).first?.keys
    }

    private func records(_ db: Database, where condition: String, _ arguments: [DatabaseValueConvertible]) throws -> [(record: RecordKey, keys: PersonKeys)] {
        try db.cachedRows(sql: """
                SELECT _row_key, mobile, id_number, name, birth_date FROM \(Self.schemaName)._dealersync_identity_records
                WHERE \(condition) LIMIT \(Self.maxCandidates)
                """,
            arguments: StatementArguments(arguments)
        ).map {
            (RecordKey($0["_row_key"] as Data),
             PersonKeys(normalizedMobile: $0["mobile"], idNumber: $0["id_number"], name: $0["name"], birthDate: $0["birth_date"]))
        }
    }

    private func newPersonID(_ db: Database) throws -> String {
        let next = try db.cachedValue(Int64.self, sql: "SELECT next_person FROM \(Self.schemaName)._dealersync_identity_state WHERE id = 1") ?? 1
        try db.cachedExecute(sql: "UPDATE \(Self.schemaName)._dealersync_identity_state SET next_person = ? WHERE id = 1", arguments: [next + 1])
        return Self.personID(next)
    }

    /// `GC-0000000042`: a global customer id, never reused.
    static func personID(_ number: Int64) -> String {
        let digits = String(number)
        return "GC-" + String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    static func chunks<T>(_ items: [T], size: Int = 400) -> [[T]] {
        stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
    }

    // MARK: Values of a row

    /// The row's column values with its key columns filled in (the key travels apart).
    static func columnValues(_ merged: RowVersion, spec: TableSpec, keyColumns: [String]) -> [String: SQLValue] {
        merged.withKeyColumns(merged.values(policy: spec.policy), spec: spec, keyColumns: keyColumns)
    }

    /// A column's value; names compare without case, as SQLite compares them.
    static func value(_ values: [String: SQLValue], _ column: String) -> SQLValue? {
        values[column] ?? values.first { $0.key.lowercased() == column.lowercased() }?.value
    }

    /// A column's value as text (a mobile kept as INTEGER is still a mobile).
    static func text(_ values: [String: SQLValue], _ column: String) -> String? {
        switch value(values, column) {
        case .text(let text)?: text
        case .integer(let number)?: String(number)
        default: nil
        }
    }
}

/// A store record at HQ: the people row's key bytes, ordered so grouping is deterministic.
struct RecordKey: Hashable, Comparable, Sendable {
    let bytes: Data
    init(_ bytes: Data) { self.bytes = bytes }
    static func < (a: RecordKey, b: RecordKey) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}

extension Database {
    // The linker runs the same few statements for every record it links, and GRDB preparing
    // a statement (parse, authorizer, region) costs more than running it: these keep each
    // one prepared per connection.
    func cachedExecute(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    func cachedRows(sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try Row.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    func cachedValues<Value: DatabaseValueConvertible & StatementColumnConvertible>(_ type: Value.Type, sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Value] {
        try Value.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    func cachedValue<Value: DatabaseValueConvertible & StatementColumnConvertible>(_ type: Value.Type, sql: String, arguments: StatementArguments = StatementArguments()) throws -> Value? {
        try Value.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }
}

extension IdentityLinker {
    /// The tables a customer read returns rows of: people, vehicles and history.
    var tablesRead: [String] {
        Array(Set([spec.people.table] + [spec.vehicles?.table].compactMap { $0 } + spec.history.map(\.table))).sorted()
    }
}
