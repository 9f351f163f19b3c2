import GRDB
import Hummingbird
import Logging

/// Makes every error answer the same JSON shape, `{"error": ..., "hint": ...}`: Hummingbird's
/// own errors (unknown route, bad method) are re-worded, and anything unexpected becomes a
/// 500 that names no SQL, value or token. The unexpected error's type is logged for operators.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HQError {
            throw error
        } catch let error as any HTTPResponseError {
            switch error.status {
            case .notFound:
                throw HQError(.notFound, "no such endpoint", hint: "see docs/HQ.md for the endpoints, e.g. POST /v1/dealers/{id}/batches")
            case .methodNotAllowed:
                throw HQError(.methodNotAllowed, "this endpoint does not take \(request.method.rawValue)", hint: "see docs/HQ.md for each endpoint's method")
            default:
                throw HQError(error.status, "the request was refused (\(error.status.reasonPhrase))", hint: "check the request against docs/HQ.md")
            }
        } catch let error as DatabaseError where [.SQLITE_FULL, .SQLITE_IOERR].contains(error.resultCode) {
            // The store's disk is full or failing: the transaction rolled back, nothing was
            // acknowledged. Say so (503, retried by agents) instead of a bare 500.
            let full = error.resultCode == .SQLITE_FULL
            logger.error(
                full ? "HQ store: the disk is full" : "HQ store: I/O error",
                metadata: ["path": "\(request.uri.path)", "sqlite": "\(error.resultCode)", "hint": "free space on the disk holding store.path; nothing was applied"])
            throw HQError(
                .serviceUnavailable,
                full ? "HQ cannot store the request: the disk holding the HQ store is full" : "HQ cannot store the request: the HQ store had an I/O error",
                hint: "nothing was applied; retry later (agents do so by themselves). HQ operators: check the disk holding store.path",
                headers: [.retryAfter: "5"])
        } catch {
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error_type": "\(type(of: error))"])
            throw HQError(.internalServerError, "HQ could not complete the request", hint: "retry with backoff; if it repeats, give HQ's operators the time of the request")
        }
    }
}
