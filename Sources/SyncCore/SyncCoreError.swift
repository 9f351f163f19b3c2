/// An error raised by SyncCore: what is wrong, where, and what to try.
///
/// Modelled on swift-service-lifecycle's `ServiceRunnerError`: a struct with a private code
/// so that cases can be added without breaking callers, who match on the public constants.
/// Messages name tables, columns, row indexes and byte offsets, never row values.
public struct SyncCoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Compare with the static members, e.g. `error.code == .truncated`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidValue, invalidNodeID, malformedBatch, truncated, trailingData
            case unsupportedVersion, limitExceeded, compressionFailed, clockTooFarAhead, invalidSchema
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A value that SQLite cannot store exactly (a NaN REAL, for instance).
        public static let invalidValue = Code(.invalidValue)
        /// A node id that is empty, too long or has characters outside `[A-Za-z0-9._-]`.
        public static let invalidNodeID = Code(.invalidNodeID)
        /// The bytes do not follow the batch format.
        public static let malformedBatch = Code(.malformedBatch)
        /// The input ends before the format says it should.
        public static let truncated = Code(.truncated)
        /// Bytes follow the end of a complete document or stream.
        public static let trailingData = Code(.trailingData)
        /// The batch was written in a format version this build does not read.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// A caller-given bound (output size, row count) would be exceeded.
        public static let limitExceeded = Code(.limitExceeded)
        /// zlib reported an error other than truncation.
        public static let compressionFailed = Code(.compressionFailed)
        /// The sync schema document is not valid.
        public static let invalidSchema = Code(.invalidSchema)
        /// A received clock reading is further ahead than the configured bound.
        public static let clockTooFarAhead = Code(.clockTooFarAhead)

        public var description: String { base.rawValue }
    }

    public let code: Code
    /// What is wrong, naming the field, row index or byte offset. Never a row value.
    public let message: String
    /// What to try.
    public let hint: String

    public init(_ code: Code, _ message: String, hint: String) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String { "\(message) (\(code)). Try: \(hint)" }
}
