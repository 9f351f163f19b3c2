import Foundation
import SyncCapture
import SyncCore

/// The agent's side of the HTTP contract in docs/HQ.md: push one outbox batch, pull one
/// page of routed changes. Measures the clock offset to HQ on every exchange.
struct HQClient: Sendable {
    let transport: any DeltaTransport
    let settings: AgentSettings
    let dealer: NodeID
    /// The largest pulled page the agent will decompress (a bound, like HQ's).
    var maxPageBytes = 256 << 20

    struct Exchange<T> {
        var value: T
        /// HQ's clock minus ours, from HQ's server-time header and the request's midpoint.
        var offsetMillis: Int64?
    }

    struct PullPage {
        var batch: Batch
        var cursor: String
        /// HQ's highest acknowledged batch sequence from this store (nil from an older HQ).
        var acknowledgedSequence: UInt64?
        /// The schema version HQ assigns this store (nil from an HQ without rollout).
        var assignedSchema: UInt64?
        /// Work HQ asks of this store, while it is open.
        var request: StoreRequest?
        /// Rows still due after this page, on a full page.
        var remaining: Int?
        /// The settings HQ publishes to this store's group (nil: none, or an older HQ).
        var groupSettings: GroupAgentSettings?
        /// Indexes of the rows HQ erased on request (docs/PRIVACY.md).
        var erasedRows: Set<Int> = []
    }

    /// The part of HQ's push receipt the agent keeps: rows HQ did not take as sent.
    struct PushReceipt: Decodable {
        var notices: [HQNotice]?
    }

    func push(_ entry: OutboxEntry, now: () -> Int64) async throws -> Exchange<[HQNotice]> {
        let sent = now()
        let response = try await exchange(HTTPRequest(
            method: "POST", url: "\(settings.hqURL)/v1/dealers/\(dealer.rawValue)/batches",
            headers: [
                ("Authorization", "Bearer \(settings.token)"),
                ("Content-Type", "application/vnd.dealersync.batch"),
                ("Content-Encoding", "gzip"),
                (BodyChecksum.headerName, entry.sha256),
                ("X-Dealersync-Clock", String(sent)),
            ],
            body: entry.body), what: "push of batch \(dealer):\(entry.firstSequence)-\(entry.lastSequence)")
        // An older HQ sends no notices; an unreadable receipt costs only the notices.
        let notices = (try? JSONDecoder().decode(PushReceipt.self, from: Data(response.body)))?.notices ?? []
        return Exchange(value: notices, offsetMillis: Self.offset(response, sent: sent))
    }

    /// `capture` goes to HQ in `X-Dealersync-Capture`, `health` in `X-Dealersync-Health`
    /// (both shown by `hq status`).
    func pull(
        after cursor: String?, pageRows: Int? = nil, capture: CaptureReport?, health: StoreHealthReport? = nil, now: () -> Int64
    ) async throws -> Exchange<PullPage> {
        let pageRows = pageRows ?? settings.pullPageRows
        var url = "\(settings.hqURL)/v1/dealers/\(dealer.rawValue)/changes?limit=\(pageRows)"
        if let cursor { url += "&after=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor)" }
        let sent = now()
        let response = try await exchange(HTTPRequest(
            method: "GET", url: url,
            headers: [("Authorization", "Bearer \(settings.token)"), ("Accept-Encoding", "gzip"), ("X-Dealersync-Clock", String(sent))]
                + (capture.map { [(CaptureReport.headerName, $0.headerValue)] } ?? [])
                + (health.map { [(StoreHealthReport.headerName, $0.headerValue)] } ?? []),
            body: []), what: "pull")
        guard let next = response.headers["x-dealersync-cursor"] else {
            throw AgentError(
                code: .badResponse, message: "HQ's pull answer has no X-Dealersync-Cursor header",
                hint: "check that hq.url points at dealersync HQ, not another service or a proxy error page", retryable: true)
        }
        do {
            let body = response.headers["content-encoding"] == "gzip"
                ? try Gzip.decompress(response.body, maxOutputBytes: maxPageBytes) : response.body
            let batch = try Batch(decoding: body, limits: BatchLimits(maxRows: pageRows * 2 + 10))
            let acknowledged = response.headers["x-dealersync-acked-sequence"].flatMap { UInt64($0) }
            let page = PullPage(
                batch: batch, cursor: next, acknowledgedSequence: acknowledged,
                assignedSchema: response.headers["x-dealersync-schema"].flatMap { UInt64($0) },
                request: response.headers["x-dealersync-request"].flatMap(StoreRequest.init(headerValue:)),
                remaining: response.headers["x-dealersync-remaining"].flatMap { Int($0) },
                groupSettings: response.headers["x-dealersync-settings"].flatMap(GroupAgentSettings.init(headerValue:)),
                erasedRows: Set((response.headers["x-dealersync-erased"] ?? "").split(separator: ",").compactMap { Int($0) }
                    .filter { batch.rows.indices.contains($0) }))
            return Exchange(value: page, offsetMillis: Self.offset(response, sent: sent))
        } catch let error as SyncCoreError {
            throw AgentError(
                code: .badResponse, message: "HQ's pull answer is not a valid batch: \(error.message)",
                hint: "run the same dealersync release at HQ and in the store", retryable: true)
        }
    }

    /// What HQ answers a shape report: the parts it could not take.
    struct ShapeAnswer: Decodable {
        struct Refusal: Decodable {
            var table: String
            var column: String?
            var reason: String
        }
        var refused: [Refusal]?
    }

    /// Sends the store's table shapes (`ShapeReport`'s canonical JSON).
    func reportShape(_ body: [UInt8]) async throws -> ShapeAnswer {
        let response = try await exchange(HTTPRequest(
            method: "PUT", url: "\(settings.hqURL)/v1/dealers/\(dealer.rawValue)/shape",
            headers: [("Authorization", "Bearer \(settings.token)"), ("Content-Type", "application/json")],
            body: body), what: "shape report")
        return (try? JSONDecoder().decode(ShapeAnswer.self, from: Data(response.body))) ?? ShapeAnswer(refused: nil)
    }

    /// The sync schema HQ assigns this store, as YAML (docs/ROLLOUT.md); nil from an HQ
    /// that does not publish schemas (404).
    func fetchSchema() async throws -> String? {
        let response = try await exchange(
            HTTPRequest(
                method: "GET", url: "\(settings.hqURL)/v1/dealers/\(dealer.rawValue)/schema",
                headers: [("Authorization", "Bearer \(settings.token)"), ("Accept", "application/yaml")], body: []),
            what: "schema fetch", answering: [404])
        return response.status == 404 ? nil : String(decoding: response.body, as: UTF8.self)
    }

    /// Reports progress on a request HQ sent with a pull.
    func reportProgress(_ progress: StoreRequestProgress, request: StoreRequest) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        _ = try await exchange(HTTPRequest(
            method: "POST", url: "\(settings.hqURL)/v1/dealers/\(dealer.rawValue)/requests/\(request.id)",
            headers: [("Authorization", "Bearer \(settings.token)"), ("Content-Type", "application/json")],
            body: Array(try encoder.encode(progress))), what: "request progress")
    }

    /// Asks HQ to send every row this store holds again (recovery from a restored file).
    func resendAll() async throws {
        _ = try await exchange(HTTPRequest(
            method: "POST", url: "\(settings.hqURL)/v1/dealers/\(dealer.rawValue)/resend",
            headers: [("Authorization", "Bearer \(settings.token)")], body: []), what: "resend request")
    }

    /// Sends a request and turns transport failures and refusals into `AgentError`s.
    /// `answering`: statuses besides 2xx that the caller handles itself.
    private func exchange(_ request: HTTPRequest, what: String, answering: Set<Int> = []) async throws -> HTTPResponse {
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch let error as TransportError {
            throw AgentError(code: .hqUnreachable, message: "\(what): \(error.message)", hint: error.hint, retryable: true)
        }
        guard !(200..<300).contains(response.status) && !answering.contains(response.status) else { return response }
        let detail = Self.errorText(response)
        let retryAfter = response.headers["retry-after"].flatMap { RetryAfter.seconds(from: $0) }
        switch response.status {
        case 401, 403:
            throw AgentError(
                code: .unauthorized, message: "\(what): HQ refused the token (\(response.status)\(detail))",
                hint: "check hq.token (or the hq-token credential) is the one `dealersync hq add-dealer \(dealer)` printed and is not revoked",
                retryable: false)
        case 409 where response.headers["x-dealersync-schema"] != nil:
            // The batch stays in the outbox: it is pushed once HQ knows its version.
            throw AgentError(
                code: .schemaNotAssigned, message: "\(what): HQ does not merge this store's schema version (409\(detail))",
                hint: "publish this store's schema version to its group at HQ (`dealersync hq schema publish FILE --group G`), or set the store up with the schema HQ assigns",
                retryable: true, retryAfterSeconds: 300)
        case 409:
            throw AgentError(
                code: .conflictingBatch, message: "\(what): HQ already has this batch id with other content (409\(detail))",
                hint: "this database was restored from an old backup or another store uses node id \(dealer); contact HQ before going on",
                retryable: false)
        case _ where settings.retry.isRetryable(status: response.status):
            throw AgentError(
                code: .hqBusy, message: "\(what): HQ answered \(response.status)\(detail)",
                hint: "HQ is busy or restarting; the agent retries with backoff", retryable: true, retryAfterSeconds: retryAfter)
        default:
            throw AgentError(
                code: .refused, message: "\(what): HQ refused it with \(response.status)\(detail)",
                hint: "run the same dealersync release at HQ and in the store; see HQ's dead letters in `dealersync hq status`",
                retryable: false)
        }
    }

    /// HQ's `{error, hint}` body, shortened, for the log and status.
    private static func errorText(_ response: HTTPResponse) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let error = object["error"] as? String
        else { return "" }
        return ": " + String(error.prefix(300))
    }

    private static func offset(_ response: HTTPResponse, sent: Int64) -> Int64? {
        guard let server = response.headers["x-dealersync-server-time"].flatMap(Int64.init) else { return nil }
        return server - (sent + response.receivedAtMillis) / 2
    }
}
