import Hummingbird

/// Counts responses by route and status and times every request.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: HQMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let route = Self.route(of: request.uri.path)
        do {
            let response = try await next(request, context)
            metrics.response(route: route, status: response.status.code, duration: ContinuousClock.now - start)
            return response
        } catch let error as any HTTPResponseError {
            metrics.response(route: route, status: error.status.code, duration: ContinuousClock.now - start)
            throw error
        } catch {
            metrics.response(route: route, status: 500, duration: ContinuousClock.now - start)
            throw error
        }
    }

    /// The route template, so dealer ids do not explode the label set.
    static func route(of path: String) -> String {
        let parts = path.split(separator: "/")
        if parts.count == 4, parts[0] == "v1", parts[1] == "dealers" { return "/v1/dealers/{id}/\(parts[3])" }
        switch path {
        case "/v1/feed", "/v1/status", "/v1/hq/changes", "/metrics", "/healthz": return path
        default: return "other"
        }
    }
}
