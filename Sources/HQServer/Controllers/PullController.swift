import Foundation
import Hummingbird
import Logging
import SyncCore

/// `GET /v1/dealers/{id}/changes?after=CURSOR&limit=N[&wait=S]`: the rows routed to a
/// dealer, in feed order, as a gzip-compressed SyncCore `Batch` from dealer `hq` whose
/// sequence range is the page's feed sequences.
///
/// The page is routed under the schema version the dealer's group is assigned, which the
/// answer names in `X-Dealersync-Schema`, with any open request in `X-Dealersync-Request`
/// (docs/ROLLOUT.md).
public struct PullController<Store: SyncStore>: Sendable {
    let store: Store
    let schemas: SchemaCatalog
    let limits: HQLimits
    let notifier: ChangeNotifier
    let metrics: HQMetrics
    let logger: Logger

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/dealers/{id}/changes") { request, context in
            let id = try context.parameters.require("id")
            // Counted by id only once the token proved it (see PushController).
            let dealer = try await Authenticator(store: store).dealer(request, id: id)
            do {
                return try await pull(request, dealer: dealer)
            } catch let error as HQError {
                metrics.refused(dealer: dealer.rawValue)
                throw error
            }
        }
        // A store whose DMS file was restored from a backup asks for every row it holds
        // again (its own writes since the backup included); only its own rows, so a
        // stolen token gains nothing it could not pull anyway.
        router.post("/v1/dealers/{id}/resend") { request, context in
            let id = try context.parameters.require("id")
            let dealer = try await Authenticator(store: store).dealer(request, id: id)
            let rows = try await store.resendAll(to: dealer)
            logger.notice("resend requested", metadata: ["dealer": "\(dealer)", "rows": "\(rows)"])
            await notifier.notify()
            return Response(status: .noContent)
        }
    }

    func pull(_ request: Request, dealer: NodeID) async throws -> Response {
        let query = request.uri.queryParameters
        let after = try Cursor.decode(query["after"])
        let limit = try Query.int(query["limit"], name: "limit", default: min(1000, limits.maxPageRows), range: 1...limits.maxPageRows)
        let wait = try Query.int(query["wait"], name: "wait", default: 0, range: 0...limits.maxWaitSeconds)

        let assignment = try await store.assignment(dealer: dealer)
        let schema = try await schemas.assigned(assignment)
        let deadline = ContinuousClock.now + .seconds(wait)
        var seen = await notifier.generation
        let pageLimit = PageLimit(rows: limit, bytes: limits.maxPageBytes)
        var page = try await store.changes(for: dealer, schema: schema, after: after, limit: pageLimit)
        while page.rows.isEmpty && ContinuousClock.now < deadline && !Task.isCancelled {
            await notifier.wait(since: seen, timeout: deadline - ContinuousClock.now)
            seen = await notifier.generation
            page = try await store.changes(for: dealer, schema: schema, after: after, limit: pageLimit)
        }
        let now = Date.nowMillis
        // `after` is what the agent confirms it has applied: the base of its backlog.
        try await store.recordPull(
            dealer: dealer, cursor: after, atMillis: now, clockSkewMillis: PushController<Store>.clockSkew(request, now: now),
            capture: request.headers[.dealersyncCapture].flatMap(CaptureReport.init(headerValue:)),
            health: request.headers[.dealersyncHealth].flatMap(StoreHealthReport.init(headerValue:)))

        let batch = Batch(
            dealer: .hq, schemaVersion: schema.version,
            firstSequence: page.rows.first?.sequence ?? page.nextCursor,
            lastSequence: page.rows.last?.sequence ?? page.nextCursor,
            rows: page.rows.map(\.version))
        let body = Gzip.compress(batch.encoded())
        metrics.bytesOut.increment(by: body.count)
        var headers: HTTPFields = [
                .contentType: "application/octet-stream",
                .contentEncoding: "gzip",
                .dealersyncCursor: Cursor.encode(page.nextCursor),
                .dealersyncServerTime: String(Date.nowMillis),
                .dealersyncSHA256: BodyChecksum.sha256Hex(body),
                // The store compares it with its own write counter: higher means its DMS
                // file was restored from an older backup (see the agent's recovery).
                .dealersyncAckedSequence: String(try await store.acknowledgedSequence(dealer: dealer)),
                .dealersyncSchema: String(schema.version),
            ]
        if let settings = assignment.agentSettings, !settings.isEmpty { headers[.dealersyncSettings] = settings.headerValue }
        if !page.erased.isEmpty { headers[.dealersyncErased] = page.erased.map(String.init).joined(separator: ",") }
        if let request = assignment.request, let kind = StoreRequest.Kind(rawValue: request.kind) {
            headers[.dealersyncRequest] = StoreRequest(id: request.id, kind: kind, table: request.table).headerValue
        }
        // A full page means more is due (a new store catching up): say how much, so the
        // store can show its progress. Counted only then, so a store in step pays nothing.
        if page.rows.count == limit {
            headers[.dealersyncRemaining] = String(try await store.backlog(for: dealer, schema: schema, after: page.nextCursor))
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
