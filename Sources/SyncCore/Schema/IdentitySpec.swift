/// The `identity:` section of the sync schema (docs/IDENTITY.md): which table holds people
/// and which of its columns identify one, which table holds vehicles and their owner, which
/// tables make up a customer's history, and what a store may see of another store's records
/// when it looks a customer up at the counter. Stores ignore it except for `dealersync lookup`.
public struct IdentitySpec: Hashable, Sendable {
    /// The people table and its identifying columns; at least one of mobile and ID number.
    public struct People: Hashable, Sendable {
        public var table: String
        public var mobile: String?
        public var idNumber: String?
        public var name: String?
        public var birthDate: String?

        public init(table: String, mobile: String? = nil, idNumber: String? = nil, name: String? = nil, birthDate: String? = nil) {
            self.table = table
            self.mobile = mobile
            self.idNumber = idNumber
            self.name = name
            self.birthDate = birthDate
        }
    }

    /// The vehicles table: its VIN column and the column naming the owning person's key.
    public struct Vehicles: Hashable, Sendable {
        public var table: String
        public var vin: String
        public var owner: String

        public init(table: String, vin: String, owner: String) {
            self.table = table
            self.vin = vin
            self.owner = owner
        }
    }

    /// A table of a customer's history: its rows name a person (`person`: a people key) or a
    /// vehicle (`vehicle`: a VIN).
    public struct History: Hashable, Sendable {
        public enum Refers: String, Hashable, Sendable { case person, vehicle }
        public var table: String
        public var column: String
        public var refers: Refers

        public init(table: String, column: String, refers: Refers) {
            self.table = table
            self.column = column
            self.refers = refers
        }
    }

    public var people: People
    public var vehicles: Vehicles?
    public var history: [History]
    /// Table → the columns another store receives at a counter lookup. A table not listed is
    /// never sent; a record's key always is.
    public var counter: [String: [String]]
    /// A mobile number carried by records of more distinct names than this is shared (a
    /// family or a store's number) and links nobody.
    public var sharedLimit: Int
    /// Counter lookups one store may make an hour; more are refused with 429.
    public var lookupsPerHour: Int

    public static let defaultSharedLimit = 2
    public static let defaultLookupsPerHour = 120

    public init(
        people: People, vehicles: Vehicles? = nil, history: [History] = [], counter: [String: [String]] = [:],
        sharedLimit: Int = IdentitySpec.defaultSharedLimit, lookupsPerHour: Int = IdentitySpec.defaultLookupsPerHour
    ) {
        self.people = people
        self.vehicles = vehicles
        self.history = history
        self.counter = counter
        self.sharedLimit = sharedLimit
        self.lookupsPerHour = lookupsPerHour
    }
}
