import Foundation
import Hummingbird
import SyncCore

/// Erasure on a data subject's request (docs/PRIVACY.md), for an HQ system with a writer
/// token:
///
///     POST /v1/hq/erasures   {"table": "customers", "key": ["C-1"], "reason": "ticket 4711"}
///     GET  /v1/hq/erasures   the latest erasures and which stores still have to confirm
///
/// Erasing a row erased before answers its status again (200, `"created": false`).
public struct ErasureController<Store: SyncStore>: Sendable {
    let store: Store
    let schema: SyncSchema

    /// The request body, also what `dealersync hq erase` builds.
    public struct Body: Codable, Sendable {
        public var table: String
        public var key: [TypedValue]
        public var reason: String?

        public init(table: String, key: [TypedValue], reason: String?) {
            self.table = table
            self.key = key
            self.reason = reason
        }
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/hq/erasures") { request, _ in try await erase(request) }
        router.get("/v1/hq/erasures") { request, _ in try await list(request) }
    }

    func erase(_ request: Request) async throws -> Response {
        let writer = try await Authenticator(store: store).writer(request)
        let bytes = try await RequestBody.collect(request, limit: 64 << 10) {
            HQError.tooLarge("the body is over 64 KiB", hint: "send one erasure per request")
        }
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(bytes))
        } catch {
            throw HQError.badRequest(
                "the body is not an erasure document (\(HQWriteController<Store>.describe(error)))",
                hint: #"send {"table": ..., "key": [...], "reason": "..."}; see docs/PRIVACY.md"#)
        }
        let erasure = try Self.request(body, by: writer.id, schema: schema, atMillis: Date.nowMillis)
        let status: ErasureStatus
        do {
            status = try await store.erase(erasure)
        } catch let error as StoreError where error.kind == .notFound {
            throw HQError(.notFound, error.message, hint: error.hint)
        }
        return PushController<Store>.json(Array(try JSONEncoder.sorted.encode(status)))
    }

    func list(_ request: Request) async throws -> Response {
        _ = try await Authenticator(store: store).writer(request)
        let limit = request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 100
        guard (1...10_000).contains(limit) else {
            throw HQError.badRequest("limit must be 1 to 10000", hint: "pass e.g. ?limit=100")
        }
        return PushController<Store>.json(Array(try JSONEncoder.sorted.encode(try await store.erasures(id: nil, limit: limit))))
    }

    /// The erasure a body asks for, or a 400 naming what is wrong.
    public static func request(_ body: Body, by who: String, schema: SyncSchema, atMillis: Int64) throws -> ErasureRequest {
        guard let spec = schema.table(named: body.table) else {
            throw HQError.badRequest("table '\(body.table)' is not in the sync schema", hint: "erase rows of synced tables; `dealersync hq status` lists them")
        }
        guard !body.key.isEmpty, body.key.count <= RowLimits.readable.maxKeyValues else {
            throw HQError.badRequest(
                "the key has \(body.key.count) values", hint: "give every primary-key value of the row, in key order (an up table's key starts with the dealer id)")
        }
        if let reason = body.reason, reason.count > 200 || reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw HQError.badRequest("the reason is over 200 characters or holds control characters", hint: "give a ticket number or a short note, never customer data")
        }
        return ErasureRequest(spec: spec, key: RowKey(body.key.map(\.value)), requestedBy: who, reason: body.reason, atMillis: atMillis)
    }
}
