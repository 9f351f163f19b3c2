import Foundation
import GRDB
import SyncCore

/// Exact conversion between SyncCore's values and GRDB's for HQ's SQL tables: both mirror
/// SQLite's storage classes, so nothing is coerced. (SyncCapture keeps the same internal
/// bridge for the DMS side; neither module depends on the other.)
extension SQLValue {
    init(_ databaseValue: DatabaseValue) {
        switch databaseValue.storage {
        case .null: self = .null
        case .int64(let value): self = .integer(value)
        case .double(let value): self = .real(value)
        case .string(let value): self = .text(value)
        case .blob(let data): self = .blob(Array(data))
        }
    }

    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let value): value.databaseValue
        case .real(let value): value.databaseValue
        case .text(let value): value.databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        }
    }
}
