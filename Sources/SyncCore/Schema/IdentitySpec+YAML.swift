/// The `identity:` section as YAML (docs/IDENTITY.md):
///
///     identity:
///       people: {table: customers, mobile: mobile, id_number: id_number, name: name, birth_date: birth_date}
///       vehicles: {table: vehicles, vin: vin, owner: customer_id}
///       history:
///         - {table: leads, person: customer_id}
///         - {table: service_orders, vehicle: vin}
///       counter:
///         customers: [name, customer_class]
///         vehicles: [vin, model, sold_on]
///       shared_limit: 2
///       lookups_per_hour: 120
struct IdentityDocument: Decodable {
    var spec: IdentitySpec

    enum CodingKeys: String, CodingKey, CaseIterable { case people, vehicles, history, counter, shared_limit, lookups_per_hour }

    private struct PeopleDocument: Decodable {
        var people: IdentitySpec.People
        enum CodingKeys: String, CodingKey, CaseIterable { case table, mobile, id_number, name, birth_date }
        init(from decoder: Decoder) throws {
            try refuseUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            people = IdentitySpec.People(
                table: try c.decode(String.self, forKey: .table), mobile: try c.decodeIfPresent(String.self, forKey: .mobile),
                idNumber: try c.decodeIfPresent(String.self, forKey: .id_number), name: try c.decodeIfPresent(String.self, forKey: .name),
                birthDate: try c.decodeIfPresent(String.self, forKey: .birth_date))
        }
    }

    private struct VehiclesDocument: Decodable {
        var vehicles: IdentitySpec.Vehicles
        enum CodingKeys: String, CodingKey, CaseIterable { case table, vin, owner }
        init(from decoder: Decoder) throws {
            try refuseUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            vehicles = IdentitySpec.Vehicles(
                table: try c.decode(String.self, forKey: .table), vin: try c.decode(String.self, forKey: .vin),
                owner: try c.decode(String.self, forKey: .owner))
        }
    }

    private struct HistoryDocument: Decodable {
        var history: IdentitySpec.History
        enum CodingKeys: String, CodingKey, CaseIterable { case table, person, vehicle }
        init(from decoder: Decoder) throws {
            try refuseUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let table = try c.decode(String.self, forKey: .table)
            switch (try c.decodeIfPresent(String.self, forKey: .person), try c.decodeIfPresent(String.self, forKey: .vehicle)) {
            case (let column?, nil): history = IdentitySpec.History(table: table, column: column, refers: .person)
            case (nil, let column?): history = IdentitySpec.History(table: table, column: column, refers: .vehicle)
            default:
                throw SchemaFieldError(
                    path: c.codingPath, problem: "needs exactly one of person (a column holding a people key) or vehicle (a column holding a VIN)")
            }
        }
    }

    init(from decoder: Decoder) throws {
        try refuseUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        spec = IdentitySpec(
            people: try c.decode(PeopleDocument.self, forKey: .people).people,
            vehicles: try c.decodeIfPresent(VehiclesDocument.self, forKey: .vehicles)?.vehicles,
            history: try c.decodeIfPresent([HistoryDocument].self, forKey: .history)?.map(\.history) ?? [],
            counter: try c.decodeIfPresent([String: [String]].self, forKey: .counter) ?? [:],
            sharedLimit: try c.decodeIfPresent(Int.self, forKey: .shared_limit) ?? IdentitySpec.defaultSharedLimit,
            lookupsPerHour: try c.decodeIfPresent(Int.self, forKey: .lookups_per_hour) ?? IdentitySpec.defaultLookupsPerHour)
    }

    /// Every table named is a synced table of the right kind and every column one it has
    /// (when the table declares its columns).
    static func validate(_ identity: IdentitySpec, tables: [TableSpec], fail: (String, String) -> SyncCoreError) throws {
        func table(_ name: String, at path: String, shared: Bool) throws -> TableSpec {
            guard let spec = tables.first(where: { $0.name == name }) else {
                throw fail(path, "names '\(name)', which is not a synced table")
            }
            if shared && spec.direction != .both {
                throw fail(path, "names '\(name)', whose direction is \(spec.direction.rawValue); people and vehicles need direction both (keys unique across stores)")
            }
            if !shared && !spec.direction.dealerPushes { throw fail(path, "names '\(name)', which stores never send") }
            return spec
        }
        func column(_ name: String?, of spec: TableSpec, at path: String) throws {
            guard let name else { return }
            if name.isEmpty { throw fail(path, "is empty") }
            if let declared = spec.columns, !declared.contains(where: { $0.name.lowercased() == name.lowercased() }) {
                throw fail(path, "names '\(name)', which is not among the declared columns of '\(spec.name)'")
            }
        }
        let people = try table(identity.people.table, at: "identity.people.table", shared: true)
        if let key = people.key, key.count != 1 {
            throw fail("identity.people.table", "names '\(people.name)', whose key has \(key.count) columns; a person is referred to by one key column")
        }
        guard identity.people.mobile != nil || identity.people.idNumber != nil else {
            throw fail("identity.people", "names neither mobile nor id_number; linking needs at least one")
        }
        try column(identity.people.mobile, of: people, at: "identity.people.mobile")
        try column(identity.people.idNumber, of: people, at: "identity.people.id_number")
        try column(identity.people.name, of: people, at: "identity.people.name")
        try column(identity.people.birthDate, of: people, at: "identity.people.birth_date")
        var known = [people.name]
        if let vehicles = identity.vehicles {
            let spec = try table(vehicles.table, at: "identity.vehicles.table", shared: true)
            try column(vehicles.vin, of: spec, at: "identity.vehicles.vin")
            try column(vehicles.owner, of: spec, at: "identity.vehicles.owner")
            known.append(spec.name)
        }
        for (index, history) in identity.history.enumerated() {
            let at = "identity.history[\(index)]"
            guard !known.contains(history.table) else { throw fail("\(at).table", "repeats '\(history.table)'; list each table once") }
            let spec = try table(history.table, at: "\(at).table", shared: false)
            if history.refers == .vehicle && identity.vehicles == nil {
                throw fail("\(at).vehicle", "refers to vehicles, but identity.vehicles is not given")
            }
            try column(history.column, of: spec, at: "\(at).\(history.refers.rawValue)")
            known.append(spec.name)
        }
        for (name, columns) in identity.counter.sorted(by: { $0.key < $1.key }) {
            let at = "identity.counter.\(name)"
            guard known.contains(name), let spec = tables.first(where: { $0.name == name }) else {
                throw fail(at, "names a table that is not the people, vehicles or a history table; list only those")
            }
            guard Set(columns.map { $0.lowercased() }).count == columns.count else { throw fail(at, "repeats a column") }
            for column in columns { try self.validateColumn(column, of: spec, at: at, fail: fail) }
        }
        if identity.sharedLimit < 1 { throw fail("identity.shared_limit", "is \(identity.sharedLimit); it must be at least 1") }
        if identity.lookupsPerHour < 1 { throw fail("identity.lookups_per_hour", "is \(identity.lookupsPerHour); it must be at least 1") }
    }

    private static func validateColumn(_ name: String, of spec: TableSpec, at path: String, fail: (String, String) -> SyncCoreError) throws {
        if name.isEmpty { throw fail(path, "lists an empty column name") }
        if let declared = spec.columns, !declared.contains(where: { $0.name.lowercased() == name.lowercased() }) {
            throw fail(path, "lists '\(name)', which is not among the declared columns of '\(spec.name)'")
        }
    }

    /// The section as YAML lines (`SyncSchema.yaml()`).
    static func yaml(_ identity: IdentitySpec, quoted: (String) -> String) -> [String] {
        let people = identity.people
        var peopleFields = ["table: \(quoted(people.table))"]
        for (key, value) in [("mobile", people.mobile), ("id_number", people.idNumber), ("name", people.name), ("birth_date", people.birthDate)] {
            if let value { peopleFields.append("\(key): \(quoted(value))") }
        }
        var lines = ["identity:", "  people: {\(peopleFields.joined(separator: ", "))}"]
        if let vehicles = identity.vehicles {
            lines.append("  vehicles: {table: \(quoted(vehicles.table)), vin: \(quoted(vehicles.vin)), owner: \(quoted(vehicles.owner))}")
        }
        if !identity.history.isEmpty {
            lines.append("  history:")
            for history in identity.history {
                lines.append("    - {table: \(quoted(history.table)), \(history.refers.rawValue): \(quoted(history.column))}")
            }
        }
        if !identity.counter.isEmpty {
            lines.append("  counter:")
            for (table, columns) in identity.counter.sorted(by: { $0.key < $1.key }) {
                lines.append("    \(quoted(table)): [\(columns.map(quoted).joined(separator: ", "))]")
            }
        }
        lines.append("  shared_limit: \(identity.sharedLimit)")
        lines.append("  lookups_per_hour: \(identity.lookupsPerHour)")
        return lines
    }
}
