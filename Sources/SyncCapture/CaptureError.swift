/// An error on the dealer's DMS database: what is wrong and what to try.
///
/// Like `SyncCoreError`, a struct with a private code (add cases without breaking callers).
/// Messages name tables and columns, never row values.
public struct CaptureError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case tableMissing, noPrimaryKey, rowidKeyOnSharedTable, notInitialized, otherNode
            case unsupportedTable, databaseUnavailable, corruptMetadata, schemaMismatch
            case noSuchConflict, cannotResolve, remoteRowUnfit, hashKeyMissing
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        public static let tableMissing = Code(.tableMissing)
        public static let noPrimaryKey = Code(.noPrimaryKey)
        public static let rowidKeyOnSharedTable = Code(.rowidKeyOnSharedTable)
        public static let notInitialized = Code(.notInitialized)
        public static let otherNode = Code(.otherNode)
        public static let unsupportedTable = Code(.unsupportedTable)
        public static let databaseUnavailable = Code(.databaseUnavailable)
        public static let corruptMetadata = Code(.corruptMetadata)
        public static let schemaMismatch = Code(.schemaMismatch)
        public static let noSuchConflict = Code(.noSuchConflict)
        public static let cannotResolve = Code(.cannotResolve)
        public static let remoteRowUnfit = Code(.remoteRowUnfit)
        public static let hashKeyMissing = Code(.hashKeyMissing)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    public let hint: String

    public init(_ code: Code, _ message: String, hint: String) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String { "\(message). Try: \(hint)" }
}
