/// A value exactly as SQLite stores it: one of its five storage classes.
///
/// Equality is by storage class and exact bits, so `.integer(1)`, `.real(1.0)` and
/// `.text("1")` differ, and `.real(-0.0)` differs from `.real(0.0)`, as they do in a
/// round trip through SQLite itself.
public enum SQLValue: Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// The SQLite storage class name, for error messages (never the value itself).
    public var storageClass: String {
        switch self {
        case .null: "NULL"
        case .integer: "INTEGER"
        case .real: "REAL"
        case .text: "TEXT"
        case .blob: "BLOB"
        }
    }

    /// Checks that SQLite can store the value without changing it. SQLite turns a NaN REAL
    /// into NULL, so a NaN would silently become another value after one round trip.
    public func validated() throws -> SQLValue {
        if case .real(let double) = self, double.isNaN {
            throw SyncCoreError(
                .invalidValue, "a REAL value is NaN, which SQLite stores as NULL",
                hint: "store NULL explicitly, or a finite number")
        }
        return self
    }
}

extension SQLValue: Hashable {
    public static func == (lhs: SQLValue, rhs: SQLValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.integer(let a), .integer(let b)): a == b
        case (.real(let a), .real(let b)): a.bitPattern == b.bitPattern
        case (.text(let a), .text(let b)): a.utf8.elementsEqual(b.utf8)
        case (.blob(let a), .blob(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .integer(let value): hasher.combine(1); hasher.combine(value)
        case .real(let value): hasher.combine(2); hasher.combine(value.bitPattern)
        case .text(let value): hasher.combine(3); hasher.combine(value.utf8.count); for byte in value.utf8 { hasher.combine(byte) }
        case .blob(let value): hasher.combine(4); hasher.combine(value)
        }
    }
}

extension SQLValue: CustomStringConvertible {
    /// Names the storage class only, so that a value printed by accident (in a log line or
    /// an error) never shows customer data.
    public var description: String { "<\(storageClass)>" }
}
