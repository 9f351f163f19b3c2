import Foundation
import Hummingbird
import SyncCore

/// `POST /v1/hq/shares`: an HQ system (writer token) lets a dealer hold a row it did not
/// create and is not routed, the explicit HQ rule of docs/SECURITY.md's read scope:
///
///     {"table": "vehicles", "key": ["LSVAU2180N2183294"], "dealer": "DLR-0421"}
///
/// The dealer receives the row at its next pull and may write it from then on.
public struct ShareController<Store: SyncStore>: Sendable {
    let store: Store
    let schema: SyncSchema
    let limits: HQLimits
    let notifier: ChangeNotifier

    /// The request body, also what `dealersync hq share` builds.
    public struct Body: Codable, Sendable {
        public var table: String
        public var key: [TypedValue]
        public var dealer: String

        public init(table: String, key: [TypedValue], dealer: String) {
            self.table = table
            self.key = key
            self.dealer = dealer
        }
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/hq/shares") { request, _ in try await share(request) }
    }

    func share(_ request: Request) async throws -> Response {
        _ = try await Authenticator(store: store).writer(request)
        let bytes = try await RequestBody.collect(request, limit: 64 << 10) {
            HQError.tooLarge("the body is over 64 KiB", hint: "send one share per request")
        }
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(bytes))
        } catch {
            throw HQError.badRequest(
                "the body is not a share document (\(HQWriteController<Store>.describe(error)))",
                hint: #"send {"table": ..., "key": [...], "dealer": "DLR-..."}; see docs/SECURITY.md"#)
        }
        let (table, key, dealer) = try Self.validate(body, schema: schema)
        let added: Bool
        do {
            added = try await store.share(table: table, key: key, with: dealer)
        } catch let error as StoreError where error.kind == .notFound {
            throw HQError(.notFound, error.message, hint: error.hint)
        }
        await notifier.notify()
        return PushController<Store>.json(Array(#"{"shared":\#(added)}"#.utf8))
    }

    /// The table, key and dealer of a share, or a 400 naming what is wrong.
    public static func validate(_ body: Body, schema: SyncSchema) throws -> (String, RowKey, NodeID) {
        guard let spec = schema.table(named: body.table), spec.direction.dealerPulls else {
            throw HQError.badRequest("table '\(body.table)' is not a synced table dealers pull", hint: "share rows of tables with direction both or down")
        }
        guard !body.key.isEmpty, body.key.count <= RowLimits.readable.maxKeyValues else {
            throw HQError.badRequest("the key has \(body.key.count) values", hint: "give every primary-key value of the row, in key order")
        }
        guard let dealer = try? NodeID(body.dealer), dealer != .hq else {
            throw HQError.badRequest("'dealer' is not a dealer id", hint: "use an id from `dealersync hq status`")
        }
        return (spec.name, RowKey(body.key.map(\.value)), dealer)
    }
}
