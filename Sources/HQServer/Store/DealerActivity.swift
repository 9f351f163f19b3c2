import Foundation

/// One dealer's recent activity at HQ, for the console's dealer page: batches, dead letters
/// with reasons, conflicts with both values, and its history (rows pushed and backlog over
/// time, from `status_history`).
public struct DealerActivity: Codable, Sendable, Hashable {
    public struct Batch: Codable, Sendable, Hashable {
        public var id: String
        public var rows: Int
        public var compressedBytes: Int
        public var atMillis: Int64
    }

    public struct DeadLetter: Codable, Sendable, Hashable {
        public var batch: String
        public var row: Int
        public var table: String
        public var reason: String
        public var atMillis: Int64
    }

    public struct Conflict: Codable, Sendable, Hashable {
        public var table: String
        public var column: String?
        public var reason: String
        public var winner: String
        public var losers: String
        /// As stored: JSON text of the values (may hold customer data; the console masks it).
        public var winningValue: String?
        public var losingValues: String
        public var atMillis: Int64
    }

    /// One point of the dealer's history.
    public struct Point: Codable, Sendable, Hashable {
        public var atMillis: Int64
        public var rowsPushed: Int
        public var backlog: Int
    }

    public var batches: [Batch]
    public var deadLetters: [DeadLetter]
    public var conflicts: [Conflict]
    /// Oldest first.
    public var history: [Point]
}
