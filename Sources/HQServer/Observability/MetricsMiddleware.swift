import Hummingbird

/// Counts responses by route template and status and times every request.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: HQMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.response(route: Self.route(context), status: response.status.code, duration: ContinuousClock.now - start)
            return response
        } catch let error as any HTTPResponseError {
            metrics.response(route: Self.route(context), status: error.status.code, duration: ContinuousClock.now - start)
            throw error
        } catch {
            metrics.response(route: Self.route(context), status: 500, duration: ContinuousClock.now - start)
            throw error
        }
    }

    /// The matched route's template (`/v1/dealers/{id}/batches`), never the request's path:
    /// a label per path would let anyone grow `/metrics` without bound.
    static func route(_ context: Context) -> String {
        guard let path = context.endpointPath, path != "NotFound" else { return "other" }
        return path
    }
}
