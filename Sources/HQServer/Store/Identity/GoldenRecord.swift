import CustomerIdentity
import Foundation
import GRDB
import SyncCore

/// A person's golden record (docs/IDENTITY.md) in the table `<people>_golden`: the global
/// id, the responsible store, how many store records it links, and each column of the people
/// table with its surviving value (`Survivorship`): the latest valid value among the
/// person's records (mobile and ID number in their normalised form); for a column HQ owns,
/// the latest value HQ wrote.
struct GoldenRecord {
    let linker: IdentityLinker
    let layout: TableLayout

    /// The people table's columns but its key (a person has many keys).
    var columns: [ColumnSpec] { layout.columns.filter { column in !layout.key.contains(column.name) } }

    /// Creates the table, or adds the columns the people table gained since.
    func ensure(_ db: Database) throws {
        let table = linker.goldenTable
        let definitions = [#""global_id" TEXT PRIMARY KEY"#, #""responsible_dealer" TEXT"#, #""records" INTEGER NOT NULL"#]
            + columns.map { "\(quotedName($0.name)) \($0.declaredType)" } + [#""updated_at_ms" INTEGER NOT NULL"#]
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS \(table) (\(definitions.joined(separator: ", ")))")
        let existing = Set(try db.cachedValues(String.self, sql: "SELECT lower(name) FROM pragma_table_info(?, ?)", arguments: ["\(linker.people.name)_golden", HQTables.schemaName]))
        for column in columns where !existing.contains(column.name.lowercased()) {
            try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN \(quotedName(column.name)) \(column.declaredType)")
        }
        try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(TableLayout.qualified("_dealersync_ix_golden_dealer")) ON \(quotedName("\(linker.people.name)_golden")) (responsible_dealer)")
    }

    /// Writes the golden record of each of `persons` again, or deletes it when the person no
    /// longer has records.
    func rebuild(_ db: Database, persons: [String]) throws {
        try ensure(db)
        let names = columns.map(\.name)
        let select = names.map { "t.\(quotedName($0))" }.joined(separator: ", ")
        let insert = """
            INSERT OR REPLACE INTO \(linker.goldenTable) (global_id, responsible_dealer, records, \(names.map(quotedName).joined(separator: ", ")), updated_at_ms)
            VALUES (\(Array(repeating: "?", count: names.count + 4).joined(separator: ", ")))
            """
        let now = Date.nowMillis
        for person in persons {
            let rows = try db.cachedRows(sql: """
                    SELECT r.dealer, r.changed_at_ms, r.by_hq\(names.isEmpty ? "" : ", " + select)
                    FROM \(IdentityLinker.schemaName)._dealersync_identity_records r LEFT JOIN \(layout.qualifiedName) t ON t."_row_key" = r._row_key
                    WHERE r.person_id = ?
                    """,
                arguments: [person])
            guard !rows.isEmpty else {
                try db.cachedExecute(sql: "DELETE FROM \(linker.goldenTable) WHERE global_id = ?", arguments: [person])
                continue
            }
            let dealer = Survivorship.responsibleDealer(rows.map { ($0["dealer"], $0["changed_at_ms"], $0["by_hq"]) })
            var arguments: [DatabaseValueConvertible?] = [person, dealer, rows.count]
            for (index, name) in names.enumerated() {
                let candidates = rows.map { row -> Survivorship.Candidate<DatabaseValue> in
                    let (value, valid) = cleaned(row[index + 3] as DatabaseValue, column: name)
                    return .init(value: value, isValid: valid, changedAtMillis: row["changed_at_ms"], byHQ: row["by_hq"], dealer: row["dealer"])
                }
                arguments.append(Survivorship.pick(candidates, hqOwned: linker.people.owners[name] == .hq) ?? .null)
            }
            arguments.append(now)
            try db.cachedExecute(sql: insert, arguments: StatementArguments(arguments))
        }
    }

    /// A record's value as the golden record would show it, and whether it may survive:
    /// identifying columns pass their normaliser (mobile, ID number and birth date shown
    /// normalised); other columns are valid when not NULL or blank.
    private func cleaned(_ value: DatabaseValue, column: String) -> (DatabaseValue, Bool) {
        let identity = linker.spec.people
        let text: String? = switch value.storage {
        case .string(let text): text
        case .int64(let number): String(number)
        default: nil
        }
        func same(_ name: String?) -> Bool { name?.lowercased() == column.lowercased() }
        if same(identity.mobile) {
            let keys = PersonKeys(mobile: text, idNumber: nil, name: nil, birthDate: nil)
            return (keys.mobile?.databaseValue ?? value, keys.mobile != nil)
        }
        if same(identity.idNumber) {
            let keys = PersonKeys(mobile: nil, idNumber: text, name: nil, birthDate: nil)
            return (keys.idNumber?.databaseValue ?? value, keys.idNumber != nil)
        }
        if same(identity.birthDate) {
            let keys = PersonKeys(mobile: nil, idNumber: nil, name: nil, birthDate: text)
            return (keys.birthDate?.databaseValue ?? value, keys.birthDate != nil)
        }
        if same(identity.name) { return (value, text.flatMap(PersonName.normalize) != nil) }
        if value.isNull { return (value, false) }
        if let text { return (value, !text.allSatisfy(\.isWhitespace)) }
        return (value, true)
    }
}
