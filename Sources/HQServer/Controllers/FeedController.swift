import Foundation
import Hummingbird
import SyncCore

/// `GET /v1/feed?after=CURSOR&limit=N`: every merged change in commit order, as JSON with
/// typed values, for HQ systems holding a reader (or writer) token. gzip when asked for.
/// Below the retention horizon the feed holds only current versions (`FeedCursor`): a cursor
/// there is answered 410 Gone.
public struct FeedController<Store: SyncStore>: Sendable {
    let store: Store
    let schema: SyncSchema
    let limits: HQLimits
    let metrics: HQMetrics
    /// `retention.feed_days`, for the 410 message.
    let feedDays: Int

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/feed") { request, _ in try await feed(request) }
    }

    func feed(_ request: Request) async throws -> Response {
        let reader = try await Authenticator(store: store).reader(request)
        let query = request.uri.queryParameters
        let cursor = try FeedCursor.decode(query["after"])
        let limit = try Query.int(query["limit"], name: "limit", default: min(1000, limits.maxPageRows), range: 1...limits.maxPageRows)
        let read = try await store.feedPage(after: cursor.after, limit: PageLimit(rows: limit, bytes: limits.maxPageBytes))
        // The horizon comes from the page's own read: a compaction cannot slip in between.
        if cursor.isBehind(horizon: read.horizon) { throw gone(cursor, horizon: read.horizon) }
        let next = FeedCursor.next(after: read.entries.last?.sequence ?? cursor.after, horizon: read.horizon).encoded
        if let first = read.entries.first, let last = read.entries.last {
            // Who read which tables' rows (docs/PRIVACY.md), before the answer leaves.
            try await store.recordAccess(AccessRecord(
                atMillis: Date.nowMillis, who: reader.id, kind: .feed, tables: Array(Set(read.entries.map(\.version.table))),
                rows: read.entries.count, detail: "seq \(first.sequence)-\(last.sequence)"))
        }
        let page = FeedPage(changes: read.entries.map { FeedChange($0, policy: schema.table(named: $0.version.table)?.policy ?? .lastWriterWins) }, nextCursor: next)
        var body = Array(try JSONEncoder.sorted.encode(page))
        var headers: HTTPFields = [.contentType: "application/json", .dealersyncCursor: next]
        if Self.acceptsGzip(request) {
            body = Gzip.compress(body)
            headers[.contentEncoding] = "gzip"
        }
        metrics.bytesOut.increment(by: body.count)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// 410: the reader may have missed changes that compaction removed (docs/HQ.md, "Retention").
    func gone(_ cursor: FeedCursor, horizon: UInt64) -> HQError {
        let compacted = feedDays > 0 ? "entries older than \(feedDays) days were compacted" : "older entries were compacted"
        let tables = "read HQ's tables (store.tables_path): take feed_seq from _dealersync_state in the same read, then follow /v1/feed?after=c1.<feed_seq>"
        let headers: HTTPFields = [.dealersyncFeedHorizon: Cursor.encode(horizon)]
        switch cursor {
        case .changes(let after):
            return HQError(
                .gone, "the feed no longer holds changes between sequence \(after) and \(horizon): \(compacted)",
                hint: "\(tables); or start again from after=c1.0, which still gives every row's current version", headers: headers)
        case .snapshot(_, let walked):
            return HQError(
                .gone, "the feed was compacted while this reader walked it from c1.0 (horizon \(walked) then, \(horizon) now): \(compacted)",
                hint: "start again from after=c1.0 and read on to the end without long pauses; or \(tables)", headers: headers)
        }
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
