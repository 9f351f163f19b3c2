import Hummingbird
import SyncCore

/// Finds who sent a request from its bearer token. No token or an unknown one is 401; a
/// revoked token, or a token of the wrong kind or another dealer, is 403. Tokens are never
/// logged or echoed.
struct Authenticator<Store: SyncStore>: Sendable {
    let store: Store

    func principal(_ request: Request) async throws -> Principal {
        guard let header = request.headers[.authorization] else {
            throw HQError.unauthorized("the request has no Authorization header")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw HQError.unauthorized("the Authorization header is not a Bearer token")
        }
        guard let principal = try await store.principal(tokenSHA256: Tokens.sha256(of: String(parts[1]))) else {
            throw HQError.unauthorized("the token is not known to this HQ")
        }
        guard !principal.revoked else {
            throw HQError.forbidden("the token of \(principal.id) was revoked", hint: "ask HQ for a new dealer id and token")
        }
        return principal
    }

    /// The dealer `id` in the path, if the token is that dealer's.
    func dealer(_ request: Request, id: String) async throws -> NodeID {
        let principal = try await principal(request)
        guard principal.kind == .dealer, principal.id == id, let node = try? NodeID(id) else {
            throw HQError.forbidden(
                "this token does not belong to dealer \(id)",
                hint: "use the token printed by `dealersync hq add-dealer \(id)`")
        }
        return node
    }

    /// A reader or writer token (HQ systems).
    func reader(_ request: Request) async throws -> Principal {
        let principal = try await principal(request)
        guard principal.kind == .reader || principal.kind == .writer else {
            throw HQError.forbidden("a dealer token cannot read the HQ feed", hint: "use a token from `dealersync hq add-reader NAME`")
        }
        return principal
    }

    func writer(_ request: Request) async throws -> Principal {
        let principal = try await principal(request)
        guard principal.kind == .writer else {
            throw HQError.forbidden("only a writer token may write as HQ", hint: "use a token from `dealersync hq add-reader NAME --writer`")
        }
        return principal
    }
}
