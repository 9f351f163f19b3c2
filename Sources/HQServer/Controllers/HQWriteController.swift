import Foundation
import Hummingbird
import Logging
import SyncCore

/// `POST /v1/hq/changes`: an HQ system (writer token) creates or changes a row as node `hq`,
/// e.g. a hot lead assigned to a dealer, or an HQ-owned column. JSON body:
///
///     {"table": "leads", "key": ["L-1"],
///      "values": {"assigned_dealer": "DLR-1", "score": {"type": "integer", "value": 90}},
///      "delete": false}
///
/// Values are typed as in the feed (`TypedValue`); a bare string is TEXT, a bare whole number
/// INTEGER, `null` NULL.
public struct HQWriteController<Store: SyncStore>: Sendable {
    let store: Store
    let schema: SyncSchema
    let limits: HQLimits
    let notifier: ChangeNotifier
    let logger: Logger

    struct Body: Decodable {
        var table: String
        var key: [TypedValue]
        var values: [String: TypedValue]?
        var delete: Bool?
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/hq/changes") { request, _ in try await write(request) }
    }

    func write(_ request: Request) async throws -> Response {
        let writer = try await Authenticator(store: store).writer(request)
        let bytes = try await RequestBody.collect(request, limit: limits.maxBodyBytes) {
            HQError.tooLarge("the body is over the limit of \(limits.maxBodyBytes) bytes", hint: "send one row per request")
        }
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(bytes))
        } catch {
            throw HQError.badRequest("the body is not a change document (\(Self.describe(error)))", hint: "send {\"table\": ..., \"key\": [...], \"values\": {...}}; see docs/HQ.md")
        }
        guard let spec = schema.table(named: body.table) else {
            throw HQError.badRequest("table '\(body.table)' is not in the sync schema", hint: "write only synced tables")
        }
        guard spec.direction != .up else {
            throw HQError.badRequest("table '\(body.table)' has direction up; its rows belong to dealers", hint: "write tables with direction both or down")
        }
        guard !body.key.isEmpty else {
            throw HQError.badRequest("the key is empty", hint: "give every primary-key value of the row, in key order")
        }
        guard body.key.count <= RowLimits.readable.maxKeyValues else {
            throw HQError.badRequest(
                "the key has \(body.key.count) values, over the \(RowLimits.readable.maxKeyValues) every reader accepts",
                hint: "give the row's primary-key values only")
        }
        guard (body.values?.count ?? 0) <= RowLimits.readable.maxColumns else {
            throw HQError.tooLarge(
                "the write has \(body.values?.count ?? 0) columns, over the \(RowLimits.readable.maxColumns) every reader accepts",
                hint: "write the row's synced columns only")
        }
        let values = try Self.protected((body.values ?? [:]).mapValues(\.value), spec: spec)
        if let column = spec.routingColumn, let routed = values[column] {
            switch routed {
            case .text, .null: break
            default:
                throw HQError.badRequest("routing column '\(column)' must be TEXT or NULL, not \(routed.storageClass)", hint: "set it to a dealer id")
            }
        }
        let receipt: HQWriteReceipt
        do {
            receipt = try await store.writeAsHQ(
                HQWrite(
                    spec: spec, key: RowKey(body.key.map(\.value)), values: values, delete: body.delete ?? false,
                    atMillis: Date.nowMillis, maxRowBytes: limits.maxRowBytes))
        } catch let error as StoreError where error.kind == .tooLarge {
            throw HQError.tooLarge(error.message, hint: error.hint)
        }
        logger.info("hq write", metadata: ["writer": "\(writer.id)", "table": "\(spec.name)", "seq": "\(receipt.feedSequence)"])
        await notifier.notify()
        return PushController<Store>.json(Array(try JSONEncoder.sorted.encode(receipt)))
    }

    /// HQ holds no more of a row than the stores send it (docs/PRIVACY.md): a `local` column
    /// is not HQ's to write, a `masked` one is stored masked, and a `hashed` one must come
    /// hashed already, since HQ has no hash key.
    static func protected(_ values: [String: SQLValue], spec: TableSpec) throws -> [String: SQLValue] {
        if let column = values.keys.sorted().first(where: spec.localColumns.contains) {
            throw HQError.badRequest(
                "column '\(column)' of '\(spec.name)' is local: it stays at the stores and HQ does not hold it",
                hint: "leave it out of the write")
        }
        if let column = values.keys.sorted().first(where: { spec.hashedColumns.contains($0) && values[$0] != .null && !HashedForm.isHashed(values[$0]!) }) {
            throw HQError.badRequest(
                "column '\(column)' of '\(spec.name)' is hashed: HQ accepts only its hashed form (\(HashedForm.prefix) and 64 hex digits)",
                hint: "hash the value with the fleet's key where it is held, or leave the column out")
        }
        var values = values
        for column in spec.maskedColumns where values[column] != nil { values[column] = MaskedForm.of(values[column]!) }
        return values
    }

    /// The decoding error's path, without the offending value.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not JSON" }
        switch error {
        case .keyNotFound(let key, _): return "missing field \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? "not JSON" : "bad field \(path)"
        @unknown default: return "not JSON"
        }
    }
}
