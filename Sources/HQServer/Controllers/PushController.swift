import Foundation
import Hummingbird
import Logging
import SyncCore

/// `POST /v1/dealers/{id}/batches`: a dealer's gzip-compressed batch, checked, merged and
/// acknowledged in one transaction. The order of checks keeps work proportional to trust:
/// token, encoding and checksum before any byte is decompressed.
///
/// Two gates bound what pushes hold: an upload slot (`uploads`) while the body arrives and
/// stays in memory, and an ingest slot (`ingests`) only once the whole body is here, for
/// decompressing, decoding and merging. A stalled upload so never holds an ingest slot, and
/// it loses its upload slot to the idle timeout or the minimum body rate.
public struct PushController<Store: SyncStore>: Sendable {
    let store: Store
    let schemas: SchemaCatalog
    let limits: HQLimits
    let uploads: IngestGate
    let ingests: IngestGate
    let inFlight: PushesInFlight
    let notifier: ChangeNotifier
    let metrics: HQMetrics
    let logger: Logger

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/dealers/{id}/batches") { request, context in
            let id = try context.parameters.require("id")
            // Only a dealer that proved its token is counted and logged by id: ids in
            // unauthenticated requests are the caller's words and must not grow HQ's memory.
            let dealer = try await Authenticator(store: store).dealer(request, id: id)
            do {
                return try await push(request, dealer: dealer)
            } catch let error as HQError {
                metrics.refused(dealer: dealer.rawValue)
                logger.notice(
                    "push refused",
                    metadata: ["dealer": "\(dealer)", "status": "\(error.status.code)", "reason": "\(error.message)"])
                throw error
            }
        }
    }

    func push(_ request: Request, dealer: NodeID) async throws -> Response {
        guard inFlight.enter(dealer.rawValue) else {
            throw HQError(
                .tooManyRequests, "dealer \(dealer) has \(inFlight.maxPerDealer) pushes in flight already",
                hint: "push one batch at a time and wait for its answer", headers: [.retryAfter: "1"])
        }
        defer { inFlight.leave(dealer.rawValue) }
        guard request.headers[.contentEncoding]?.lowercased() == "gzip" else {
            throw HQError(.unsupportedMediaType, "the batch must be sent with Content-Encoding: gzip", hint: "gzip the batch body and set Content-Encoding: gzip")
        }
        guard let claimedSHA = request.headers[.dealersyncSHA256]?.lowercased() else {
            throw HQError.badRequest("the \(BodyChecksum.headerName) header is missing", hint: "send the SHA-256 of the compressed body as lowercase hex")
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limits.maxBodyBytes {
            throw bodyTooLarge()
        }
        guard await uploads.enter() else { throw busy(uploads, "receiving") }
        metrics.uploadsReceiving.increment()
        defer {
            metrics.uploadsReceiving.decrement()
            uploads.leave()
        }
        let body = try await RequestBody.collect(
            request, limit: limits.maxBodyBytes, minBytesPerSecond: limits.minBodyBytesPerSecond, tooLarge: bodyTooLarge)
        guard BodyChecksum.sha256Hex(body) == claimedSHA else {
            throw HQError.badRequest("the body does not match its \(BodyChecksum.headerName) checksum", hint: "the body was changed or cut in transit; resend it")
        }
        metrics.bytesIn.increment(by: body.count)
        if let receipt = try await store.acknowledgedReceipt(dealer: dealer, sha256: claimedSHA) {
            logger.info("batch replayed", metadata: ["dealer": "\(dealer)"])
            return Self.json(receipt)
        }

        guard await ingests.enter() else { throw busy(ingests, "applying") }
        metrics.ingestsApplying.increment()
        defer {
            metrics.ingestsApplying.decrement()
            ingests.leave()
        }
        let batch = try decode(body)
        guard batch.dealer == dealer else {
            throw HQError.badRequest("the batch names dealer \(batch.dealer), not \(dealer)", hint: "push each batch to its own dealer's URL")
        }
        // Columns HQ's own schema keeps local stay out also of batches written under an
        // older version (a policy made stricter later takes effect at once).
        let schema = try await schema(for: batch, dealer: dealer).keepingPrivacy(of: schemas.own)
        let now = Date.nowMillis
        let outcome = try await store.ingest(
            IngestBatch(
                dealer: dealer, firstSequence: batch.firstSequence, lastSequence: batch.lastSequence, sha256: claimedSHA,
                compressedBytes: body.count, versions: batch.rows, schema: schema, limits: limits, receivedAtMillis: now,
                clockSkewMillis: Self.clockSkew(request, now: now)))
        switch outcome {
        case .applied(let receipt, let summary):
            metrics.batches.increment()
            metrics.rows.increment(by: batch.rows.count)
            metrics.deadLetters.increment(by: summary.deadLetters)
            metrics.conflicts.increment(by: summary.conflicts)
            for notice in summary.notices ?? [] {
                logger.warning(
                    notice.kind == .refused ? "dead letter" : "columns overruled",
                    metadata: ["dealer": "\(dealer)", "batch": "\(batch.id)", "reason": "\(notice.reason)"])
            }
            logger.info(
                "batch applied",
                metadata: ["dealer": "\(dealer)", "batch": "\(batch.id)", "rows": "\(batch.rows.count)", "dead_letters": "\(summary.deadLetters)"])
            await notifier.notify()
            return Self.json(receipt)
        case .replayed(let receipt):
            return Self.json(receipt)
        case .mismatch:
            throw HQError(
                .conflict, "batch \(batch.id) was acknowledged before with different content",
                hint: "a batch id (its sequence range) must always carry the same bytes; check the agent's outbox")
        }
    }

    /// The schema the batch was written for (docs/ROLLOUT.md): a version HQ published, no
    /// newer than the one the dealer's group is assigned. Anything else is refused whole with
    /// 409, and the agent keeps the batch until HQ knows its version.
    private func schema(for batch: Batch, dealer: NodeID) async throws -> SyncSchema {
        let assignment = try await store.assignment(dealer: dealer)
        let assigned = assignment.schemaVersion ?? schemas.own.version
        guard batch.schemaVersion <= assigned, let schema = try await schemas.schema(version: batch.schemaVersion) else {
            throw HQError(
                .conflict, "the batch was written under sync schema version \(batch.schemaVersion), which HQ has not assigned to dealer \(dealer) (group \(assignment.group) runs \(assigned))",
                hint: "set the store up with the schema HQ publishes (the agent fetches it by itself), or publish version \(batch.schemaVersion) to the group with `dealersync hq schema publish FILE --group \(assignment.group)`",
                headers: [.dealersyncSchema: String(assigned)])
        }
        return schema
    }

    private func busy(_ gate: IngestGate, _ doing: String) -> HQError {
        HQError(
            .tooManyRequests, "HQ is \(doing) \(gate.capacity) batches already and \(gate.queued) more wait",
            hint: "retry after the Retry-After seconds, with jitter", headers: [.retryAfter: "1"])
    }

    private func bodyTooLarge() -> HQError {
        HQError.tooLarge("the compressed body is over the limit of \(limits.maxBodyBytes) bytes", hint: "send smaller batches (agent setting batch_rows)")
    }

    private func decode(_ body: [UInt8]) throws -> Batch {
        let plain: [UInt8]
        do {
            plain = try Gzip.decompress(body, maxOutputBytes: limits.maxDecompressedBytes)
        } catch let error as SyncCoreError {
            if error.code == .limitExceeded { throw HQError.tooLarge(error.message, hint: error.hint) }
            throw HQError.badRequest(error.message, hint: error.hint)
        }
        do {
            return try Batch(decoding: plain, limits: BatchLimits(maxRows: limits.maxRows, maxWrites: limits.maxWritesPerBatch))
        } catch let error as SyncCoreError {
            if error.code == .limitExceeded { throw HQError.tooLarge(error.message, hint: error.hint) }
            throw HQError.badRequest(error.message, hint: error.hint)
        }
    }

    /// The agent's clock minus HQ's, from `X-Dealersync-Clock` (ms since 1970).
    static func clockSkew(_ request: Request, now: Int64) -> Int64? {
        request.headers[.dealersyncClock].flatMap { Int64($0) }.map { $0 &- now }
    }

    static func json(_ bytes: [UInt8]) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

