/// Why a cycle stopped: what happened, what to try, and whether waiting helps.
public struct AgentError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case hqUnreachable, hqBusy, refused, unauthorized, conflictingBatch, badResponse, anotherAgent, schemaNotAssigned
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// No answer from HQ (network, DNS, TLS, timeout).
        public static let hqUnreachable = Code(.hqUnreachable)
        /// HQ answered 429/5xx: try again later.
        public static let hqBusy = Code(.hqBusy)
        /// HQ refused the request as malformed or too large (4xx other than auth).
        public static let refused = Code(.refused)
        /// The token is missing, wrong, revoked or another dealer's.
        public static let unauthorized = Code(.unauthorized)
        /// HQ already acknowledged this batch id with other bytes.
        public static let conflictingBatch = Code(.conflictingBatch)
        /// HQ's answer could not be understood.
        public static let badResponse = Code(.badResponse)
        /// HQ will not merge batches written under this store's schema version (docs/ROLLOUT.md).
        public static let schemaNotAssigned = Code(.schemaNotAssigned)
        /// Another agent process holds this DMS database.
        public static let anotherAgent = Code(.anotherAgent)
        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    public var hint: String
    /// Whether the same request may succeed later without anyone changing anything.
    public var retryable: Bool
    /// HQ's Retry-After, in seconds.
    public var retryAfterSeconds: Int?

    public var description: String { "\(message). Try: \(hint)" }
}
