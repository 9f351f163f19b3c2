import Foundation
import Hummingbird
import Logging
import SyncCore

/// `POST /v1/dealers/{id}/batches`: a dealer's gzip-compressed batch, checked, merged and
/// acknowledged in one transaction. The order of checks keeps work proportional to trust:
/// token, capacity, encoding and checksum before any byte is decompressed.
public struct PushController<Store: SyncStore>: Sendable {
    let store: Store
    let schema: SyncSchema
    let limits: HQLimits
    let gate: IngestGate
    let notifier: ChangeNotifier
    let metrics: HQMetrics
    let logger: Logger

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/dealers/{id}/batches") { request, context in
            let id = try context.parameters.require("id")
            do {
                return try await push(request, dealerID: id)
            } catch let error as HQError {
                // Not for 401: requests without a valid token must not grow HQ's memory.
                if error.status != .unauthorized { metrics.refused(dealer: id) }
                logger.notice(
                    "push refused",
                    metadata: ["dealer": "\(id)", "status": "\(error.status.code)", "reason": "\(error.message)"])
                throw error
            }
        }
    }

    private var auth: Authenticator<Store> { Authenticator(store: store) }

    func push(_ request: Request, dealerID: String) async throws -> Response {
        let dealer = try await auth.dealer(request, id: dealerID)
        guard await gate.enter() else {
            throw HQError(
                .tooManyRequests, "HQ is applying \(gate.capacity) batches already and \(gate.queued) more wait",
                hint: "retry after the Retry-After seconds, with jitter", headers: [.retryAfter: "1"])
        }
        defer { gate.leave() }

        guard request.headers[.contentEncoding]?.lowercased() == "gzip" else {
            throw HQError(.unsupportedMediaType, "the batch must be sent with Content-Encoding: gzip", hint: "gzip the batch body and set Content-Encoding: gzip")
        }
        guard let claimedSHA = request.headers[.dealersyncSHA256]?.lowercased() else {
            throw HQError.badRequest("the \(BodyChecksum.headerName) header is missing", hint: "send the SHA-256 of the compressed body as lowercase hex")
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limits.maxBodyBytes {
            throw bodyTooLarge()
        }
        let body = try await RequestBody.collect(request, limit: limits.maxBodyBytes, tooLarge: bodyTooLarge)
        guard BodyChecksum.sha256Hex(body) == claimedSHA else {
            throw HQError.badRequest("the body does not match its \(BodyChecksum.headerName) checksum", hint: "the body was changed or cut in transit; resend it")
        }
        metrics.bytesIn.increment(by: body.count)
        if let receipt = try await store.acknowledgedReceipt(dealer: dealer, sha256: claimedSHA) {
            logger.info("batch replayed", metadata: ["dealer": "\(dealer)"])
            return Self.json(receipt)
        }

        let batch = try decode(body)
        guard batch.dealer == dealer else {
            throw HQError.badRequest("the batch names dealer \(batch.dealer), not \(dealer)", hint: "push each batch to its own dealer's URL")
        }
        let now = Date.nowMillis
        let validator = RowValidator(schema: schema, nowMillis: now, maxClockAheadMillis: Int64(limits.maxClockAheadMillis))
        var accepted: [AcceptedRow] = []
        var dead: [DeadLetter] = []
        for (index, row) in batch.rows.enumerated() {
            switch validator.check(row, index: index, from: dealer) {
            case .accepted(let row): accepted.append(row)
            case .dead(let letter): dead.append(letter)
            }
        }
        let outcome = try await store.ingest(
            IngestBatch(
                dealer: dealer, firstSequence: batch.firstSequence, lastSequence: batch.lastSequence, sha256: claimedSHA,
                compressedBytes: body.count, rows: accepted, deadLetters: dead, receivedAtMillis: now,
                clockSkewMillis: Self.clockSkew(request, now: now)))
        switch outcome {
        case .applied(let receipt, let summary):
            metrics.batches.increment()
            metrics.rows.increment(by: batch.rows.count)
            metrics.deadLetters.increment(by: dead.count)
            metrics.conflicts.increment(by: summary.conflicts)
            for letter in dead {
                logger.warning("dead letter", metadata: ["dealer": "\(dealer)", "batch": "\(batch.id)", "reason": "\(letter.reason)"])
            }
            logger.info(
                "batch applied",
                metadata: ["dealer": "\(dealer)", "batch": "\(batch.id)", "rows": "\(batch.rows.count)", "dead_letters": "\(dead.count)"])
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
            return try Batch(decoding: plain, limits: BatchLimits(maxRows: limits.maxRows))
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

extension Date {
    static var nowMillis: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
