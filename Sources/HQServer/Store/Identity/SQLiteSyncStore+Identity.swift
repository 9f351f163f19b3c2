import Foundation
import GRDB
import SQLiteValues
import SyncCore

/// One customer across stores (docs/IDENTITY.md): linking behind ingest, lookups, and the
/// links HQ makes or splits by hand. Everything lives in HQ's tables file.
extension SQLiteSyncStore {
    /// The linker, or a 404-shaped error saying how to turn identity on.
    private func linker() throws -> (HQTables, IdentityLinker) {
        guard let tables, let identity = tables.identity else {
            throw StoreError(
                kind: .notFound, message: "customer identity is not configured at this HQ",
                hint: "add an identity: section to the sync schema (docs/IDENTITY.md) and keep store.tables_path on")
        }
        return (tables, identity)
    }

    /// Links the next `chunk` people and vehicle changes; 0 when linking has caught up (or
    /// identity is off).
    public func linkIdentities(chunk: Int = 2_000) async throws -> Int {
        guard let tables, let identity = tables.identity else { return 0 }
        return try await pool.write { db in try identity.advance(db, limit: chunk, layouts: try tables.layouts(db)) }
    }

    public func identityStatus() async throws -> IdentityStatus? {
        guard let tables, let identity = tables.identity else { return nil }
        return try await pool.read { db in
            let schema = IdentityLinker.schemaName
            let linked = try IdentityLinker.linkedSequence(db)
            let names = [identity.people.name] + (identity.vehicles.map { [$0.name] } ?? [])
            let pending = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM rows WHERE feed_seq > ? AND +table_name IN (\(names.map { _ in "?" }.joined(separator: ", ")))",
                arguments: StatementArguments([linked] + names)) ?? 0
            var links: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT rule, count(*) AS n FROM \(schema)._dealersync_identity_links GROUP BY rule") {
                links[row["rule"]] = row["n"]
            }
            let people = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*) AS people, coalesce(sum(n > 1), 0) AS several, coalesce(sum(n), 0) AS records
                    FROM (SELECT count(*) AS n FROM \(schema)._dealersync_identity_records GROUP BY person_id)
                    """)
            return IdentityStatus(
                linkedSequence: linked, latestSequence: Int64(bitPattern: try Self.latestSequence(db)), pendingRows: pending,
                records: people?["records"] ?? 0, people: people?["people"] ?? 0, peopleAtSeveralStores: people?["several"] ?? 0, links: links,
                splits: try Int.fetchOne(db, sql: "SELECT count(*) FROM \(schema)._dealersync_identity_splits") ?? 0)
        }
    }

    /// The global ids of the people the query finds (none for a value that identifies nobody).
    public func findCustomers(_ query: CustomerQuery) async throws -> [String] {
        let (_, identity) = try linker()
        guard let value = query.normalized else { return [] }
        let schema = IdentityLinker.schemaName
        return try await pool.read { db in
            switch query.kind {
            case .mobile, .idNumber:
                let column = query.kind == .mobile ? "mobile" : "id_number"
                return try String.fetchAll(
                    db, sql: "SELECT DISTINCT person_id FROM \(schema)._dealersync_identity_records WHERE \(column) = ? ORDER BY 1 LIMIT 20",
                    arguments: [value])
            case .vin:
                guard identity.vehicles != nil else { return [] }
                return try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT r.person_id FROM \(schema)._dealersync_identity_vehicles v
                        JOIN \(schema)._dealersync_identity_records r ON r._row_key = v.owner WHERE v.vin = ? ORDER BY 1 LIMIT 20
                        """,
                    arguments: [value])
            }
        }
    }

    /// One person: the golden record, their store records, vehicles, history and links; nil
    /// for an unknown id.
    public func customer(id: String) async throws -> CustomerHistory? {
        let (tables, identity) = try linker()
        return try await pool.read { db in
            let schema = IdentityLinker.schemaName
            let layouts = try tables.layouts(db)
            let members = try Data.fetchAll(
                db, sql: "SELECT _row_key FROM \(schema)._dealersync_identity_records WHERE person_id = ? ORDER BY _row_key", arguments: [id])
            guard !members.isEmpty else { return nil }
            var history = CustomerHistory(id: id, responsibleDealer: nil, golden: [:], records: [], vehicles: [], history: [], links: [])
            if let golden = try Row.fetchOne(db, sql: "SELECT * FROM \(identity.goldenTable) WHERE global_id = ?", arguments: [id]) {
                history.responsibleDealer = golden["responsible_dealer"]
                for column in golden.columnNames where !["global_id", "responsible_dealer", "records", "updated_at_ms"].contains(column) {
                    history.golden[column] = TypedValue(SQLValue(databaseValue: golden[column] as DatabaseValue))
                }
            }
            guard let peopleLayout = layouts[identity.people.name] else { return history }
            history.records = try Self.storeRecords(db, layout: peopleLayout, where: "\"_row_key\" IN", members)
            // Vehicles the person owns or owned, and the history tables' rows about them.
            var vins: [String] = []
            if let vehicles = identity.spec.vehicles, let layout = layouts[vehicles.table] {
                var vehicleKeys: [Data] = []
                for chunk in IdentityLinker.chunks(members) {
                    vehicleKeys += try Data.fetchAll(
                        db,
                        sql: "SELECT DISTINCT vehicle FROM \(schema)._dealersync_identity_vehicles WHERE owner IN (\(chunk.map { _ in "?" }.joined(separator: ", ")))",
                        arguments: StatementArguments(chunk))
                }
                history.vehicles = try Self.storeRecords(db, layout: layout, where: "\"_row_key\" IN", vehicleKeys)
                vins = history.vehicles.compactMap { record in
                    record.values.first { $0.key.lowercased() == vehicles.vin.lowercased() }.flatMap { if case .text(let vin) = $0.value.value { vin } else { nil } }
                }
            }
            let personKeys = history.records.compactMap { $0.key.first?.value }
            for item in identity.spec.history {
                guard let layout = layouts[item.table], let column = layout.columns.first(where: { $0.name.lowercased() == item.column.lowercased() })
                else { continue }
                let values: [DatabaseValueConvertible] = item.refers == .person ? personKeys.map(\.databaseValue) : vins
                history.history += try Self.storeRecords(db, layout: layout, where: "\(quotedName(column.name)) IN", values)
            }
            for chunk in IdentityLinker.chunks(members) {
                let marks = chunk.map { _ in "?" }.joined(separator: ", ")
                for row in try Row.fetchAll(
                    db,
                    sql: """
                        SELECT ra.key_json AS a, rb.key_json AS b, l.rule, l.confidence, l.made_by FROM \(schema)._dealersync_identity_links l
                        JOIN \(schema)._dealersync_identity_records ra ON ra._row_key = l.a
                        JOIN \(schema)._dealersync_identity_records rb ON rb._row_key = l.b
                        WHERE l.a IN (\(marks)) AND rb.person_id = ?
                        """,
                    arguments: StatementArguments(chunk + [id]))
                {
                    history.links.append(RecordLink(
                        a: try JSONDecoder().decode([TypedValue].self, from: Data((row["a"] as String).utf8)),
                        b: try JSONDecoder().decode([TypedValue].self, from: Data((row["b"] as String).utf8)),
                        rule: row["rule"], confidence: row["confidence"], madeBy: row["made_by"]))
                }
            }
            return history
        }
    }

    /// Rows of a table whose `condition` column is among `values`, as store records.
    private static func storeRecords(_ db: Database, layout: TableLayout, where condition: String, _ values: [DatabaseValueConvertible]) throws -> [StoreRecord] {
        var records: [StoreRecord] = []
        let dealer = QualityWriter.dealerSQL(layout.spec)
        for chunk in IdentityLinker.chunks(values) where !chunk.isEmpty {
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(dealer) AS "_dealersync_dealer", * FROM \(layout.qualifiedName)
                    WHERE \(condition) (\(chunk.map { _ in "?" }.joined(separator: ", "))) ORDER BY "_row_key" LIMIT 1000
                    """,
                arguments: StatementArguments(chunk))
            for row in rows {
                var values: [String: TypedValue] = [:]
                for column in layout.columns { values[column.name] = TypedValue(SQLValue(databaseValue: row[column.name] as DatabaseValue)) }
                records.append(StoreRecord(
                    table: layout.spec.name, dealer: row["_dealersync_dealer"] ?? "",
                    key: layout.key.map { values[$0] ?? TypedValue(.null) }, values: values))
            }
        }
        return records
    }

    /// Every store record's person: people-table row key bytes → global id (benchmarks and
    /// checks against ground truth).
    public func identityAssignments() async throws -> [Data: String] {
        _ = try linker()
        return try await pool.read { db in
            var persons: [Data: String] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT _row_key, person_id FROM \(IdentityLinker.schemaName)._dealersync_identity_records")
            while let row = try rows.next() { persons[row["_row_key"]] = row["person_id"] }
            return persons
        }
    }

    // MARK: Lookups recorded

    public func recordLookup(_ lookup: CustomerLookup) async throws {
        let (_, identity) = try linker()
        try await pool.write { db in
            // The same read in the access records (docs/PRIVACY.md), in the same transaction.
            try Self.insert(db, AccessRecord(
                atMillis: lookup.atMillis, who: lookup.who, kind: lookup.kind == "dealer" ? .counter : .customer,
                tables: identity.tablesRead, rows: lookup.records, detail: [lookup.queryKind, lookup.person].compactMap { $0 }.joined(separator: " ")))
            try db.execute(
                sql: """
                    INSERT INTO \(IdentityLinker.schemaName)._dealersync_identity_lookups (at_ms, who, kind, query_kind, person_id, records)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [lookup.atMillis, lookup.who, lookup.kind, lookup.queryKind, lookup.person, lookup.records])
        }
    }

    /// Lookups `who` made since `sinceMillis` (for the counter's hourly limit).
    public func lookupCount(by who: String, sinceMillis: Int64) async throws -> Int {
        _ = try linker()
        return try await pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM \(IdentityLinker.schemaName)._dealersync_identity_lookups WHERE who = ? AND at_ms >= ?",
                arguments: [who, sinceMillis]) ?? 0
        }
    }

    /// The newest recorded lookups first, of `who` or everyone.
    public func lookupLog(limit: Int, who: String? = nil) async throws -> [CustomerLookup] {
        _ = try linker()
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT at_ms, who, kind, query_kind, person_id, records FROM \(IdentityLinker.schemaName)._dealersync_identity_lookups
                    \(who == nil ? "" : "WHERE who = ?") ORDER BY at_ms DESC, rowid DESC LIMIT \(max(1, limit))
                    """,
                arguments: who.map { [$0] } ?? []
            ).map {
                CustomerLookup(atMillis: $0["at_ms"], who: $0["who"], kind: $0["kind"], queryKind: $0["query_kind"], person: $0["person_id"], records: $0["records"])
            }
        }
    }

    // MARK: Links made and split by hand

    /// Links two people records by hand, or splits them (they are different people, which
    /// the rules then never undo). Keys are the people table's keys. Returns the global ids
    /// of the two records afterwards.
    public func changeLink(_ change: LinkChange, _ a: RowKey, _ b: RowKey, by who: String) async throws -> (String, String) {
        let (tables, identity) = try linker()
        guard a != b else { throw StoreError(kind: .exists, message: "the two records are the same record", hint: "give two different keys") }
        return try await pool.write { db in
            for key in [a, b] {
                guard try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM \(IdentityLinker.schemaName)._dealersync_identity_records WHERE _row_key = ?",
                    arguments: [Data(key.bytes)]) == true
                else {
                    throw StoreError(
                        kind: .notFound, message: "no \(identity.people.name) record with key \(key) is linked at HQ",
                        hint: "give the record's key as in the DMS; a record merged moments ago is linked within seconds")
                }
            }
            let golden = try tables.layouts(db)[identity.people.name]
            let x = RecordKey(Data(a.bytes)), y = RecordKey(Data(b.bytes))
            switch change {
            case .link: try identity.link(db, x, y, by: who, golden: golden)
            case .split: try identity.split(db, x, y, by: who, golden: golden)
            }
            let person = { (key: RecordKey) in
                try String.fetchOne(
                    db, sql: "SELECT person_id FROM \(IdentityLinker.schemaName)._dealersync_identity_records WHERE _row_key = ?",
                    arguments: [key.bytes]) ?? ""
            }
            return (try person(x), try person(y))
        }
    }
}
