import Foundation
import Hummingbird
import SyncCore

/// `GET /v1/feed?after=CURSOR&limit=N`: every merged change in commit order, as JSON with
/// typed values, for HQ systems holding a reader (or writer) token. gzip when asked for.
public struct FeedController<Store: SyncStore>: Sendable {
    let store: Store
    let schema: SyncSchema
    let limits: HQLimits
    let metrics: HQMetrics

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/feed") { request, _ in try await feed(request) }
    }

    func feed(_ request: Request) async throws -> Response {
        _ = try await Authenticator(store: store).reader(request)
        let query = request.uri.queryParameters
        let after = try Cursor.decode(query["after"])
        let limit = try Query.int(query["limit"], name: "limit", default: min(1000, limits.maxPageRows), range: 1...limits.maxPageRows)
        let entries = try await store.feed(after: after, limit: PageLimit(rows: limit, bytes: limits.maxPageBytes))
        let next = entries.last?.sequence ?? after
        let page = FeedPage(changes: entries.map { FeedChange($0, policy: schema.table(named: $0.version.table)?.policy ?? .lastWriterWins) }, nextCursor: Cursor.encode(next))
        var body = Array(try JSONEncoder.sorted.encode(page))
        var headers: HTTPFields = [.contentType: "application/json", .dealersyncCursor: Cursor.encode(next)]
        if Self.acceptsGzip(request) {
            body = Gzip.compress(body)
            headers[.contentEncoding] = "gzip"
        }
        metrics.bytesOut.increment(by: body.count)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func acceptsGzip(_ request: Request) -> Bool {
        (request.headers[.acceptEncoding] ?? "").split(separator: ",").contains {
            $0.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "gzip"
        }
    }
}

/// The feed's JSON page.
struct FeedPage: Encodable {
    var changes: [FeedChange]
    var nextCursor: String

    enum CodingKeys: String, CodingKey {
        case changes
        case nextCursor = "next_cursor"
    }
}

/// One change: the row right after it, with the values the merge policy shows. `source` is
/// the dealer (or `hq`) whose write caused it. For `up` tables the key starts with the
/// dealer id (see docs/HQ.md).
struct FeedChange: Encodable {
    var seq: UInt64
    var table: String
    var key: [TypedValue]
    var deleted: Bool
    var values: [String: TypedValue]
    var versionVector: [String: UInt64]
    var origin: String
    var source: String
    var atMillis: Int64

    enum CodingKeys: String, CodingKey {
        case seq, table, key, deleted, values, origin, source
        case versionVector = "version_vector"
        case atMillis = "at_ms"
    }

    /// `policy` is the table's: it picks the shown value of a conflicted column, the same
    /// pick every node makes.
    init(_ entry: FeedEntry, policy: MergePolicy) {
        let version = entry.version
        seq = entry.sequence
        table = version.table
        key = version.key.values.map(TypedValue.init)
        deleted = !version.isAlive(policy: policy)
        values = version.values(policy: policy).mapValues(TypedValue.init)
        versionVector = Dictionary(uniqueKeysWithValues: version.versionVector.entries.map { ($0.node.rawValue, $0.counter) })
        origin = version.origin.node.rawValue
        source = entry.source
        atMillis = entry.atMillis
    }
}
