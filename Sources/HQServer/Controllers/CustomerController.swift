import Foundation
import Hummingbird
import SyncCore

/// One customer across stores (docs/IDENTITY.md). Every lookup is recorded: who, when, how,
/// and which person.
/// - `GET /v1/customers/{id}` (reader token): the golden record, each linked store record,
///   vehicles, history rows and links.
/// - `GET /v1/customers?mobile=…` (or `id_number=`, `vin=`; reader token): the people found.
/// - `POST /v1/dealers/{id}/lookups` (that dealer's token), body `{"mobile": "…"}` (or
///   `id_number`, `vin`): the counter lookup; only what `identity.counter` lets other
///   stores see, at most `identity.lookups_per_hour` an hour.
/// - `POST /v1/hq/identity/links` and `/splits` (writer token), body
///   `{"a": [key…], "b": [key…]}`: link two people records by hand, or split them.
public struct CustomerController<Store: SyncStore>: Sendable {
    let store: Store
    let schema: SyncSchema

    /// Most people one search returns.
    static var maxResults: Int { 20 }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/customers/{id}") { request, context in
            let reader = try await Authenticator(store: store).reader(request)
            let id = try context.parameters.require("id")
            guard let customer = try await found({ try await store.customer(id: id) }) else {
                try await record(reader.id, kind: "reader", query: "id", person: nil, records: 0)
                throw HQError(.notFound, "no customer \(id)", hint: "find the id with GET /v1/customers?mobile=… (or id_number, vin)")
            }
            try await record(reader.id, kind: "reader", query: "id", person: id, records: customer.records.count)
            return PushController<Store>.json(Array(try JSONEncoder.sorted.encode(customer)))
        }
        router.get("/v1/customers") { request, _ in
            let reader = try await Authenticator(store: store).reader(request)
            let query = try Self.query(request.uri.queryParameters.map { (String($0.key), String($0.value)) })
            let customers = try await search(query)
            try await record(reader.id, kind: "reader", query: query.kind.rawValue, customers)
            return PushController<Store>.json(Array(try JSONEncoder.sorted.encode(Found(customers: customers))))
        }
        router.post("/v1/dealers/{id}/lookups") { request, context in
            let dealer = try await Authenticator(store: store).dealer(request, id: try context.parameters.require("id"))
            guard let identity = schema.identity else { throw Self.notConfigured }
            let hourAgo = Date.nowMillis - 3_600_000
            guard try await store.lookupCount(by: dealer.rawValue, sinceMillis: hourAgo) < identity.lookupsPerHour else {
                throw HQError(
                    .tooManyRequests, "this store made \(identity.lookupsPerHour) customer lookups in the last hour, its limit",
                    hint: "look customers up one at a time as they come to the counter; HQ can raise identity.lookups_per_hour",
                    headers: [.retryAfter: "600"])
            }
            let bytes = try await RequestBody.collect(request, limit: 4 << 10) {
                HQError.tooLarge("the lookup is over 4 KiB", hint: #"send {"mobile": "…"}, {"id_number": "…"} or {"vin": "…"}"#)
            }
            let fields = (try? JSONDecoder().decode([String: String].self, from: Data(bytes))) ?? [:]
            let query = try Self.query(fields.map { ($0.key, $0.value) })
            let customers = try await search(query).map { $0.forCounter(identity, asking: dealer.rawValue) }
            try await record(dealer.rawValue, kind: "dealer", query: query.kind.rawValue, customers)
            return PushController<Store>.json(Array(try JSONEncoder.sorted.encode(Found(customers: customers))))
        }
        for change in [LinkChange.link, .split] {
            router.post("/v1/hq/identity/\(change.rawValue)s") { request, _ in
                let writer = try await Authenticator(store: store).writer(request)
                let bytes = try await RequestBody.collect(request, limit: 8 << 10) {
                    HQError.tooLarge("the body is over 8 KiB", hint: #"send {"a": [key…], "b": [key…]}"#)
                }
                guard let body = try? JSONDecoder().decode(LinkBody.self, from: Data(bytes)), !body.a.isEmpty, !body.b.isEmpty else {
                    throw HQError.badRequest(
                        "the body is not a link document", hint: #"send {"a": ["<customer key>"], "b": ["<customer key>"]}, keys as in the DMS"#)
                }
                let (a, b) = try await found({
                    try await store.changeLink(change, RowKey(body.a.map(\.value)), RowKey(body.b.map(\.value)), by: writer.id)
                })
                return PushController<Store>.json(Array(try JSONEncoder.sorted.encode(["a": a, "b": b])))
            }
        }
    }

    /// The answer to a search or a counter lookup.
    public struct Found: Codable, Sendable {
        public var customers: [CustomerHistory]
    }
    struct LinkBody: Codable, Sendable {
        var a: [TypedValue]
        var b: [TypedValue]
    }

    static var notConfigured: HQError {
        HQError(.notFound, "customer identity is not configured at this HQ", hint: "add an identity: section to the sync schema (docs/IDENTITY.md)")
    }

    /// Exactly one of `mobile`, `id_number`, `vin`, with a value that identifies someone.
    static func query(_ fields: [(String, String)]) throws -> CustomerQuery {
        let given = fields.compactMap { name, value in CustomerQuery.Kind(rawValue: name).map { CustomerQuery(kind: $0, value: value) } }
        guard given.count == 1, fields.count == 1, let query = given.first else {
            throw HQError.badRequest(
                "give exactly one of mobile, id_number or vin", hint: "e.g. ?mobile=13812345678 (or a JSON body {\"mobile\": \"13812345678\"} at the counter)")
        }
        guard query.normalized != nil else {
            throw HQError.badRequest(
                "the \(query.kind.rawValue) given is not valid, or is a placeholder that identifies nobody",
                hint: "check the number: 11 digits for a mobile, 18 characters with the right check character for an ID, 17 for a VIN")
        }
        return query
    }

    private func search(_ query: CustomerQuery) async throws -> [CustomerHistory] {
        var customers: [CustomerHistory] = []
        for id in try await found({ try await store.findCustomers(query) }).prefix(Self.maxResults) {
            if let customer = try await store.customer(id: id) { customers.append(customer) }
        }
        return customers
    }

    private func record(_ who: String, kind: String, query: String, _ customers: [CustomerHistory]) async throws {
        if customers.isEmpty { try await record(who, kind: kind, query: query, person: nil, records: 0) }
        for customer in customers {
            try await record(who, kind: kind, query: query, person: customer.id, records: customer.records.count + customer.vehicles.count + customer.history.count)
        }
    }

    private func record(_ who: String, kind: String, query: String, person: String?, records: Int) async throws {
        try await found({
            try await store.recordLookup(CustomerLookup(
                atMillis: Date.nowMillis, who: who, kind: kind, queryKind: query, person: person, records: records))
        })
    }

    /// Runs a store call, turning "not found / not configured" into 404.
    private func found<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError where error.kind == .notFound {
            throw HQError(.notFound, error.message, hint: error.hint)
        } catch let error as StoreError where error.kind == .exists {
            throw HQError.badRequest(error.message, hint: error.hint)
        }
    }
}
