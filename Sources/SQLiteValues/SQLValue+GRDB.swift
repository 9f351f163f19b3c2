import Foundation
import GRDB
import SyncCore

/// Exact conversion between SyncCore's values and GRDB's: both mirror SQLite's storage
/// classes, so nothing is coerced on the way in or out. Used wherever dealersync writes
/// values into SQLite: the DMS (SyncCapture) and HQ's SQL tables (HQServer).
extension SQLValue {
    public init(databaseValue: DatabaseValue) {
        switch databaseValue.storage {
        case .null: self = .null
        case .int64(let value): self = .integer(value)
        case .double(let value): self = .real(value)
        case .string(let value): self = .text(value)
        case .blob(let data): self = .blob(Array(data))
        }
    }

    public var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let value): value.databaseValue
        case .real(let value): value.databaseValue
        case .text(let value): value.databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        }
    }
}
