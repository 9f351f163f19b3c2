/// A column's type affinity, from its declared type by SQLite's five rules
/// (https://sqlite.org/datatype3.html, 3.1), and whether a value's storage class fits it.
///
/// HQ's SQL tables (docs/HQ-TABLES.md) use it: SQLite lets a DMS store text in an INTEGER
/// column, and a value that does not fit its column is shown as SQLite stores it but counted
/// per dealer and column, while the version store keeps it exactly.
public enum ColumnAffinity: String, Hashable, Sendable, CaseIterable {
    case integer = "INTEGER"
    case text = "TEXT"
    case blob = "BLOB"
    case real = "REAL"
    case numeric = "NUMERIC"

    /// The rules in SQLite's order: the first that matches wins (`CHARINT` is INTEGER,
    /// `FLOATING POINT` is INTEGER, `STRING` is NUMERIC, as in SQLite).
    public init(declaredType: String) {
        let type = declaredType.uppercased()
        if type.contains("INT") {
            self = .integer
        } else if type.contains("CHAR") || type.contains("CLOB") || type.contains("TEXT") {
            self = .text
        } else if type.contains("BLOB") || type.trimmingSpaces.isEmpty {
            self = .blob
        } else if type.contains("REAL") || type.contains("FLOA") || type.contains("DOUB") {
            self = .real
        } else {
            self = .numeric
        }
    }

    /// Whether a value of this storage class is what a column of this affinity holds as
    /// written: NULL always; INTEGER holds integers, TEXT text, REAL reals (finite or
    /// infinite, never NaN), NUMERIC integers and reals that are not whole numbers an
    /// Int64 holds exactly (SQLite would store those as integers), BLOB anything.
    public func fits(_ value: SQLValue) -> Bool {
        switch (self, value) {
        case (_, .null), (.blob, _): true
        case (.integer, .integer), (.text, .text), (.numeric, .integer): true
        case (.real, .real(let number)): !number.isNaN
        case (.numeric, .real(let number)): !number.isNaN && !Self.isExactInt64(number)
        default: false
        }
    }

    static func isExactInt64(_ number: Double) -> Bool {
        number.rounded() == number && number >= -9.223_372_036_854_775_808e18 && number < 9.223_372_036_854_775_808e18
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring { self.drop { $0 == " " || $0 == "\t" } }
}
