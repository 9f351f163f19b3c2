import Foundation
import Hummingbird
import SyncCore

/// Data quality (docs/QUALITY.md):
/// - `GET /v1/quality[?dealer=ID]` (reader token): the fleet's score, each dealer's, and its
///   fields worst first, with the field dictionary;
/// - `GET /v1/dealers/{id}/quality` (that dealer's token): the store's own score and open
///   issues — its own rows' keys and what to correct, never another store's rows or any value.
public struct QualityController<Store: SyncStore>: Sendable {
    let store: Store
    let schema: SyncSchema

    /// Most issues one store's answer lists.
    static var maxIssues: Int { 10_000 }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/quality") { request, _ in
            _ = try await Authenticator(store: store).reader(request)
            let dealer = request.uri.queryParameters["dealer"].map(String.init)
            let report = try await store.qualityReport(schema: schema, dealer: dealer)
            return PushController<Store>.json(Array(try JSONEncoder.sorted.encode(report)))
        }
        router.get("/v1/dealers/{id}/quality") { request, context in
            let dealer = try await Authenticator(store: store).dealer(request, id: try context.parameters.require("id"))
            let report = try await store.qualityReport(schema: schema, dealer: dealer.rawValue)
            let issues = try await store.qualityIssues(dealer: dealer.rawValue, schema: schema, limit: Self.maxIssues)
            let body = StoreQuality(score: report.dealers.first?.score ?? 1, fields: report.dealers.first?.fields ?? [], issues: issues)
            return PushController<Store>.json(Array(try JSONEncoder.sorted.encode(body)))
        }
    }
}

/// What a store receives about its own data quality.
public struct StoreQuality: Codable, Sendable, Hashable {
    public var score: Double
    public var fields: [QualityReport.Field]
    public var issues: [StoreQualityIssue]
}
