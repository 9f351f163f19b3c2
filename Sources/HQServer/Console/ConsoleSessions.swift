import Foundation
import Synchronization

/// Signed-in console users (docs/CONSOLE.md). A reader or writer token signs in once; the
/// browser then holds only a random session id in an HttpOnly, SameSite=Strict cookie, so
/// the token is never stored by the browser nor sent again.
///
/// A session ends after `idleTimeout` without a request, `maxAge` after sign-in, at sign-out,
/// or as soon as its token is revoked (every request re-checks the token's principal). Kept
/// in memory: a restart signs everyone out, which is the safe direction.
final class ConsoleSessions: Sendable {
    struct Session: Sendable {
        let principalID: String
        /// SHA-256 of the token that signed in, to re-check it is still valid.
        let tokenSHA256: String
        /// Sent in every form and compared on every POST.
        let csrfToken: String
        let created: ContinuousClock.Instant
        var lastUsed: ContinuousClock.Instant
    }

    let idleTimeout: Duration
    let maxAge: Duration
    /// Most sessions kept; the least recently used goes first.
    let capacity: Int
    private let sessions = Mutex<[String: Session]>([:])

    init(idleTimeout: Duration = .seconds(1_800), maxAge: Duration = .seconds(8 * 3_600), capacity: Int = 10_000) {
        self.idleTimeout = idleTimeout
        self.maxAge = maxAge
        self.capacity = capacity
    }

    /// A new session for the principal; returns its id.
    func start(principalID: String, tokenSHA256: String) -> String {
        let id = Self.randomToken()
        let now = ContinuousClock.now
        sessions.withLock { sessions in
            if sessions.count >= capacity, let oldest = sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
                sessions.removeValue(forKey: oldest)
            }
            sessions[id] = Session(
                principalID: principalID, tokenSHA256: tokenSHA256, csrfToken: Self.randomToken(), created: now, lastUsed: now)
        }
        return id
    }

    /// The live session with this id (its last use now), or nil when unknown or expired.
    func touch(_ id: String) -> Session? {
        let now = ContinuousClock.now
        return sessions.withLock { sessions in
            guard var session = sessions[id] else { return nil }
            guard now - session.lastUsed < idleTimeout, now - session.created < maxAge else {
                sessions.removeValue(forKey: id)
                return nil
            }
            session.lastUsed = now
            sessions[id] = session
            return session
        }
    }

    func end(_ id: String) { _ = sessions.withLock { $0.removeValue(forKey: id) } }

    /// Ends every session of a principal (its token was revoked).
    func endAll(of principalID: String) { sessions.withLock { $0 = $0.filter { $0.value.principalID != principalID } } }

    /// 32 random bytes, hex: unguessable session ids and CSRF tokens.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    /// Compares two secrets in time independent of where they differ.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
