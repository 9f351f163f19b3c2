import Foundation
import Hummingbird
import Logging
import SyncCore

/// A store's side of schema rollout and remote requests (docs/ROLLOUT.md):
///
/// - `GET /v1/dealers/{id}/schema`: the sync schema the dealer's group is assigned, as
///   YAML, with its version in `X-Dealersync-Schema`. Only the dealer's own: another
///   group's pilot version is not a dealer token's business.
/// - `POST /v1/dealers/{id}/requests/{request}`: the store's progress on a request HQ sent
///   with a pull (`StoreRequestProgress` as JSON).
public struct RolloutController<Store: SyncStore>: Sendable {
    let store: Store
    let schemas: SchemaCatalog
    let logger: Logger

    static var maxProgressBytes: Int { 4 << 10 }
    static var maxMessageCharacters: Int { 200 }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/dealers/{id}/schema") { request, context in
            let dealer = try await Authenticator(store: store).dealer(request, id: try context.parameters.require("id"))
            let schema = try await schemas.assigned(try await store.assignment(dealer: dealer))
            return Response(
                status: .ok,
                headers: [.contentType: "application/yaml; charset=utf-8", .dealersyncSchema: String(schema.version)],
                body: .init(byteBuffer: ByteBuffer(string: schema.yaml())))
        }
        router.post("/v1/dealers/{id}/requests/{request}") { request, context in
            let dealer = try await Authenticator(store: store).dealer(request, id: try context.parameters.require("id"))
            guard let id = Int64(try context.parameters.require("request")), id > 0 else {
                throw HQError.badRequest("the request id is not a number", hint: "report progress on the id HQ sent in X-Dealersync-Request")
            }
            let progress = try await Self.progress(request)
            do {
                try await store.recordRequestProgress(
                    dealer: dealer, id: id, state: RemoteRequest.State(rawValue: progress.state.rawValue)!, done: progress.done, total: progress.total,
                    message: progress.message, atMillis: Date.nowMillis)
            } catch let error as StoreError where error.kind == .notFound {
                throw HQError(.notFound, error.message, hint: error.hint)
            }
            if progress.state != .running {
                logger.info("store request finished", metadata: ["dealer": "\(dealer)", "request": "\(id)", "state": "\(progress.state.rawValue)"])
            }
            return Response(status: .noContent)
        }
    }

    /// The body as a progress report: counts from 0 to 10^12 and a short message of
    /// printable characters (it is shown to operators, so nothing else gets through).
    static func progress(_ request: Request) async throws -> StoreRequestProgress {
        let bytes = try await RequestBody.collect(request, limit: maxProgressBytes) {
            HQError.tooLarge("the progress report is over \(maxProgressBytes) bytes", hint: "send state, done, total and a short message")
        }
        let progress: StoreRequestProgress
        do {
            progress = try JSONDecoder().decode(StoreRequestProgress.self, from: Data(bytes))
        } catch {
            throw HQError.badRequest(
                "the body is not a progress report (\(HQWriteController<Store>.describe(error)))",
                hint: #"send {"state": "running"|"done"|"failed", "done": N, "total": N, "message": "…"}"#)
        }
        let counts = 0...1_000_000_000_000
        guard counts.contains(progress.done), counts.contains(progress.total) else {
            throw HQError.badRequest("done and total must be counts from 0 to 10^12", hint: "send the rows checked so far and in all")
        }
        if let message = progress.message {
            guard message.count <= maxMessageCharacters, message.unicodeScalars.allSatisfy({ !$0.properties.generalCategory.isControl }) else {
                throw HQError.badRequest(
                    "the message must be at most \(maxMessageCharacters) characters without control characters", hint: "send a short summary")
            }
        }
        return progress
    }
}

extension Unicode.GeneralCategory {
    fileprivate var isControl: Bool {
        switch self {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: true
        default: false
        }
    }
}
