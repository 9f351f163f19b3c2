import Foundation
import Yams

/// Reading the sync schema from YAML, with errors that give the path of the bad field and
/// what is allowed there, e.g. `tables[2].direction: "sideways" is not allowed; use one of
/// both, up, down`. Unknown keys are refused too, so a typo never silently does nothing.
extension SyncSchema {
    public init(yaml: String, source: String = "sync schema") throws {
        let document: SchemaDocument
        do {
            document = try YAMLDecoder().decode(SchemaDocument.self, from: yaml)
        } catch let error as SchemaFieldError {
            throw error.asCoreError(source: source)
        } catch let error as DecodingError {
            // Yams wraps errors thrown while decoding; ours carry the better message.
            if case .dataCorrupted(let context) = error, let field = context.underlyingError as? SchemaFieldError {
                throw field.asCoreError(source: source)
            }
            if case .dataCorrupted(let context) = error, let inner = context.underlyingError as? DecodingError {
                throw SchemaFieldError(decoding: inner).asCoreError(source: source)
            }
            throw SchemaFieldError(decoding: error).asCoreError(source: source)
        } catch {
            throw SyncCoreError(
                .invalidSchema, "\(source): not a YAML document (\(error))",
                hint: "check indentation and quoting; see docs/SYNC-SCHEMA.md for an example")
        }
        self = try document.validated(source: source)
    }

    /// The schema as YAML, in the form `init(yaml:)` reads.
    public func yaml() -> String {
        var lines = ["version: \(version)", "tables:"]
        for table in tables {
            lines.append("  - name: \(Self.quoted(table.name))")
            lines.append("    direction: \(table.direction.rawValue)")
            if let routing = table.routingColumn { lines.append("    routing_column: \(Self.quoted(routing))") }
            if table.broadcast { lines.append("    broadcast: true") }
            if table.deleteRule != .updateWins { lines.append("    on_delete_conflict: \(table.deleteRule.rawValue)") }
            if !table.owners.isEmpty {
                lines.append("    owners:")
                for (column, owner) in table.owners.sorted(by: { $0.key < $1.key }) {
                    lines.append("      \(Self.quoted(column)): \(owner.rawValue)")
                }
            }
            if let key = table.key { lines.append("    key: [\(key.map(Self.quoted).joined(separator: ", "))]") }
            if let columns = table.columns {
                lines.append("    columns:")
                for column in columns { lines.append("      - \(Self.quoted(column.name)): \(Self.quoted(column.declaredType))") }
            }
            if !table.indexes.isEmpty {
                lines.append("    indexes:")
                for index in table.indexes { lines.append("      - [\(index.map(Self.quoted).joined(separator: ", "))]") }
            }
            for (field, columns) in [("local", table.localColumns), ("masked", table.maskedColumns), ("hashed", table.hashedColumns)]
            where !columns.isEmpty {
                lines.append("    \(field): [\(columns.sorted().map(Self.quoted).joined(separator: ", "))]")
            }
            if !table.quality.isEmpty {
                lines.append("    quality:")
                for rule in table.quality { lines.append("      - " + QualityDocument.yaml(rule, quoted: Self.quoted)) }
            }
        }
        if let identity { lines += IdentityDocument.yaml(identity, quoted: Self.quoted) }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func quoted(_ string: String) -> String {
        "\"" + string.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// A field-level problem found while decoding, with its path.
struct SchemaFieldError: Error {
    var path: String
    var problem: String

    init(path: [CodingKey], problem: String) {
        self.init(renderedPath: SchemaFieldError.render(path), problem: problem)
    }

    init(renderedPath: String, problem: String) {
        self.path = renderedPath
        self.problem = problem
    }

    init(decoding error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            self.init(path: context.codingPath + [key], problem: "is missing")
        case .typeMismatch(let type, let context):
            self.init(path: context.codingPath, problem: "has the wrong type; expected \(SchemaFieldError.describe(type))")
        case .valueNotFound(let type, let context):
            self.init(path: context.codingPath, problem: "is empty; expected \(SchemaFieldError.describe(type))")
        case .dataCorrupted(let context):
            self.init(path: context.codingPath, problem: context.debugDescription)
        @unknown default:
            self.init(path: [], problem: "\(error)")
        }
    }

    func asCoreError(source: String) -> SyncCoreError {
        SyncCoreError(
            .invalidSchema, "\(source): \(path.isEmpty ? "document" : path) \(problem)",
            hint: "fix that field; docs/SYNC-SCHEMA.md lists every field and its allowed values")
    }

    static func render(_ path: [CodingKey]) -> String {
        var rendered = ""
        for key in path {
            if let index = key.intValue { rendered += "[\(index)]" } else { rendered += (rendered.isEmpty ? "" : ".") + key.stringValue }
        }
        return rendered
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "text"
        case is Bool.Type: "true or false"
        case is UInt64.Type, is Int.Type: "a whole number"
        default: "a \(type)"
        }
    }
}

/// A coding key that accepts any name, for listing the keys a mapping has.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

func refuseUnknownKeys(in decoder: Decoder, allowed: [String]) throws {
    let container = try decoder.container(keyedBy: AnyKey.self)
    for key in container.allKeys where !allowed.contains(key.stringValue) {
        throw SchemaFieldError(
            path: decoder.codingPath + [key],
            problem: "is not a known field; allowed here: \(allowed.joined(separator: ", "))")
    }
}

private struct SchemaDocument: Decodable {
    var version: UInt64
    var tables: [TableDocument]
    var identity: IdentityDocument?

    enum CodingKeys: String, CodingKey, CaseIterable { case version, tables, identity }

    init(from decoder: Decoder) throws {
        try refuseUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(UInt64.self, forKey: .version)
        tables = try container.decode([TableDocument].self, forKey: .tables)
        identity = try container.decodeIfPresent(IdentityDocument.self, forKey: .identity)
    }

    func validated(source: String) throws -> SyncSchema {
        func fail(_ path: String, _ problem: String) -> SyncCoreError {
            SchemaFieldError(renderedPath: path, problem: problem).asCoreError(source: source)
        }
        guard version >= 1 else { throw fail("version", "is 0; schema versions start at 1") }
        guard !tables.isEmpty else { throw fail("tables", "is empty; list at least one table to sync") }
        var seen = Set<String>()
        for (index, table) in tables.map(\.spec).enumerated() {
            guard !table.name.isEmpty else { throw fail("tables[\(index)].name", "is empty") }
            guard !table.name.hasPrefix("_dealersync") && !table.name.lowercased().hasPrefix("sqlite_") else {
                throw fail("tables[\(index)].name", "names an internal table; list only DMS tables")
            }
            guard seen.insert(table.name).inserted else {
                throw fail("tables[\(index)].name", "repeats table '\(table.name)'; list each table once")
            }
            if table.broadcast && table.direction == .up {
                throw fail("tables[\(index)].broadcast", "is true on an 'up' table, whose rows never leave HQ; use direction both or down")
            }
            try Self.validateColumns(table, path: "tables[\(index)]", fail: fail)
            try Self.validatePrivacy(table, path: "tables[\(index)]", fail: fail)
            try QualityDocument.validate(table, path: "tables[\(index)].quality", fail: fail)
        }
        if let identity {
            try IdentityDocument.validate(identity.spec, tables: tables.map(\.spec), fail: fail)
            let people = identity.spec.people, vehicles = identity.spec.vehicles
            let used = [(people.table, [people.mobile, people.idNumber, people.name, people.birthDate].compactMap { $0 })]
                + (vehicles.map { [($0.table, [$0.vin, $0.owner])] } ?? [])
            for (table, columns) in used {
                let spec = tables.first { $0.spec.name == table }?.spec
                if let column = columns.first(where: { spec?.localColumns.contains($0) == true }) {
                    throw fail("identity", "links by '\(column)' of '\(table)', which that table keeps local; HQ cannot link by a value it never receives")
                }
                if let column = columns.first(where: { spec?.maskedColumns.contains($0) == true }) {
                    throw fail("identity", "links by '\(column)' of '\(table)', which that table masks; make it `hashed` to link by it without HQ holding the value")
                }
            }
        }
        return SyncSchema(version: version, tables: tables.map(\.spec), identity: identity?.spec)
    }

    /// `local`, `masked` and `hashed` columns: HQ never holds their values, so nothing HQ
    /// does may need them: not the key (it travels with every row), the routing column, an
    /// owned column (merged at HQ), a quality rule; a `local` column is not declared for
    /// HQ's SQL table either. A column takes one policy.
    private static func validatePrivacy(_ table: TableSpec, path: String, fail: (String, String) -> SyncCoreError) throws {
        var seen: [String: String] = [:]
        for (field, columns) in [("local", table.localColumns), ("masked", table.maskedColumns), ("hashed", table.hashedColumns)] {
            for column in columns.sorted() {
                let reason: String? =
                    column.isEmpty ? "names an empty column"
                    : seen[column] != nil ? "names '\(column)', which `\(seen[column]!)` already names; give a column one policy"
                    : table.key?.contains(column) == true ? "names key column '\(column)'; the key travels with every row"
                    : table.routingColumn == column ? "names the routing column '\(column)'; HQ routes by its value"
                    : table.owners[column] != nil ? "names '\(column)', which `owners` gives an owner; an owned column is merged at HQ"
                    : table.quality.contains(where: { $0.column == column }) ? "names '\(column)', which has a quality rule; HQ cannot measure what it never receives"
                    : field == "local" && table.columns?.contains(where: { $0.name == column }) == true
                        ? "names '\(column)', which `columns` declares for HQ's SQL table"
                    : nil
                if let reason { throw fail("\(path).\(field)", "\(reason); remove it from `\(field)` or from the other field") }
                seen[column] = field
            }
        }
    }

    /// `columns`, `key` and `indexes` (HQ's SQL table): the column rule every shape follows
    /// (`ColumnSpec.problem`), and indexes made of declared columns.
    static let maxColumns = 500

    private static func validateColumns(_ table: TableSpec, path: String, fail: (String, String) -> SyncCoreError) throws {
        guard let columns = table.columns else {
            if table.key != nil { throw fail("\(path).key", "is given without columns; declare both or neither") }
            if !table.indexes.isEmpty { throw fail("\(path).indexes", "needs declared columns; add `columns:`") }
            return
        }
        if let (field, problem) = ColumnSpec.problem(in: columns, key: table.key ?? [], maxColumns: maxColumns) {
            throw fail("\(path).\(field)", problem)
        }
        let names = Set(columns.map { $0.name.lowercased() })
        for (index, columnsOfIndex) in table.indexes.enumerated() {
            guard !columnsOfIndex.isEmpty else { throw fail("\(path).indexes[\(index)]", "is empty") }
            for column in columnsOfIndex where !names.contains(column.lowercased()) {
                throw fail("\(path).indexes[\(index)]", "names '\(column)', which is not among the declared columns")
            }
        }
    }
}

private struct TableDocument: Decodable {
    var spec: TableSpec

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, direction, routing_column, broadcast, owners, on_delete_conflict, key, columns, indexes, quality, local, masked, hashed
    }

    init(from decoder: Decoder) throws {
        try refuseUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .name)
        let direction = try Self.choice(TableSpec.Direction.self, container, .direction)
        let routing = try container.decodeIfPresent(String.self, forKey: .routing_column)
        let broadcast = try container.decodeIfPresent(Bool.self, forKey: .broadcast) ?? false
        let rule = try container.decodeIfPresent(String.self, forKey: .on_delete_conflict).map { raw in
            guard let rule = MergePolicy.DeleteRule(rawValue: raw) else {
                throw SchemaFieldError(
                    path: container.codingPath + [CodingKeys.on_delete_conflict],
                    problem: "\"\(raw)\" is not allowed; use one of update-wins, delete-wins")
            }
            return rule
        } ?? .updateWins
        var owners: [String: MergePolicy.Owner] = [:]
        if container.contains(.owners) {
            let raw = try container.decode([String: String].self, forKey: .owners)
            for (column, owner) in raw {
                guard let parsed = MergePolicy.Owner(rawValue: owner) else {
                    throw SchemaFieldError(
                        path: container.codingPath + [CodingKeys.owners, AnyKey(stringValue: column)],
                        problem: "\"\(owner)\" is not allowed; use one of hq, origin")
                }
                owners[column] = parsed
            }
        }
        // `columns` is a list of one-entry maps (`- mobile: VARCHAR(20)`), so the order stays.
        let columns = try container.decodeIfPresent([[String: String]].self, forKey: .columns).map { entries in
            try entries.enumerated().map { index, entry in
                guard entry.count == 1, let (column, type) = entry.first else {
                    throw SchemaFieldError(
                        path: container.codingPath + [CodingKeys.columns, AnyKey(stringValue: "[\(index)]")],
                        problem: "has \(entry.count) entries; write one column a line: `- name: TYPE`")
                }
                return ColumnSpec(name: column, declaredType: type)
            }
        }
        spec = TableSpec(
            name: name, direction: direction, routingColumn: routing, broadcast: broadcast, owners: owners, deleteRule: rule,
            columns: columns, key: try container.decodeIfPresent([String].self, forKey: .key),
            indexes: try container.decodeIfPresent([[String]].self, forKey: .indexes) ?? [],
            quality: try container.decodeIfPresent([QualityDocument].self, forKey: .quality)?.map(\.rule) ?? [])
        spec.localColumns = Set(try container.decodeIfPresent([String].self, forKey: .local) ?? [])
        spec.maskedColumns = Set(try container.decodeIfPresent([String].self, forKey: .masked) ?? [])
        spec.hashedColumns = Set(try container.decodeIfPresent([String].self, forKey: .hashed) ?? [])
    }

    private static func choice<T: RawRepresentable & CaseIterable>(
        _ type: T.Type, _ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys
    ) throws -> T where T.RawValue == String {
        let raw = try container.decode(String.self, forKey: key)
        guard let value = T(rawValue: raw) else {
            throw SchemaFieldError(
                path: container.codingPath + [key],
                problem: "\"\(raw)\" is not allowed; use one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}
