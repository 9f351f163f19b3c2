/// A request that got no HTTP response: what happened and what to try.
///
/// Like `SyncCoreError`, a struct with a private code so that cases can be added without
/// breaking callers, who compare `code` with the static members. Messages name the host and
/// libcurl's reason, never a header value (tokens) or a body.
public struct TransportError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case couldNotConnect, timedOut, stalled, tlsFailure, proxyFailure, other
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The host did not resolve or refused the connection.
        public static let couldNotConnect = Code(.couldNotConnect)
        /// Connecting, or the whole exchange, took longer than its configured bound.
        public static let timedOut = Code(.timedOut)
        /// Connected, but fewer bytes than the low-speed limit flowed for the low-speed time.
        public static let stalled = Code(.stalled)
        /// The TLS handshake failed: certificate not trusted, wrong host name, client
        /// certificate refused or unreadable.
        public static let tlsFailure = Code(.tlsFailure)
        /// The configured proxy could not be reached or refused the tunnel.
        public static let proxyFailure = Code(.proxyFailure)
        /// Anything else: connection dropped mid-answer, response too large, bad request.
        public static let other = Code(.other)

        public var description: String { base.rawValue }
    }

    public let code: Code
    /// What happened, naming the host or libcurl's reason. Never a token or a body.
    public let message: String
    /// What to try.
    public let hint: String
    /// How long the failed exchange took, as libcurl measured it (0 when it never started):
    /// tells a refused connection (instant) from a stall or timeout in logs.
    public var elapsedMillis: Int64 = 0

    public init(_ code: Code, _ message: String, hint: String) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String { "\(message) (\(code)). Try: \(hint)" }
}
