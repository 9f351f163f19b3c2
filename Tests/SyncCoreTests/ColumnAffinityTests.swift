import Foundation
import GRDB
import SQLiteValues
import SyncCore
import Testing

/// Checked against SQLite itself: a column of each declared type, each value inserted, and
/// `typeof` read back. A value that fits is kept by SQLite as it is; one SQLite converts
/// never fits. (SQLite also keeps some that do not fit: text in an INTEGER column.)
@Suite("column affinity")
struct ColumnAffinityTests {
    static let declaredTypes = [
        "INTEGER", "INT", "BIGINT", "TINYINT", "CHARINT", "VARCHAR(20)", "NCHAR(5)", "TEXT", "CLOB", "BLOB", "", "REAL",
        "DOUBLE PRECISION", "FLOAT", "FLOATING POINT", "NUMERIC", "DECIMAL(10,5)", "BOOLEAN", "DATE", "DATETIME", "STRING",
    ]

    static let values: [SQLValue] = [
        .null, .integer(0), .integer(-7), .integer(Int64.max), .real(1.5), .real(5.0), .real(-0.0), .real(1e300),
        .real(.infinity), .real(9.3e18), .text("abc"), .text("12"), .text("1.5"), .text(""), .blob([1, 2]), .blob([]),
    ]

    @Test("affinity and fits agree with SQLite for every declared type and storage class", arguments: declaredTypes)
    func agreesWithSQLite(_ declaredType: String) throws {
        let affinity = ColumnAffinity(declaredType: declaredType)
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (c \(declaredType))")
            for value in Self.values {
                try db.execute(sql: "DELETE FROM t")
                try db.execute(sql: "INSERT INTO t (c) VALUES (?)", arguments: [value.databaseValue])
                let stored = try String.fetchOne(db, sql: "SELECT typeof(c) FROM t")!.uppercased()
                if affinity.fits(value) {
                    #expect(stored == value.storageClass, "\(declaredType) (\(affinity)): \(value) fits but was stored as \(stored)")
                }
                if affinity == .blob { #expect(affinity.fits(value)) }
            }
            // The affinity itself, as SQLite shows it: how '12' and 12 are stored.
            func stored(_ value: SQLValue) throws -> String {
                try db.execute(sql: "DELETE FROM t")
                try db.execute(sql: "INSERT INTO t (c) VALUES (?)", arguments: [value.databaseValue])
                return try String.fetchOne(db, sql: "SELECT typeof(c) FROM t")!
            }
            let expected: (String, String) = switch affinity {
            case .integer, .numeric: ("integer", "integer")
            case .real: ("real", "real")
            case .text: ("text", "text")
            case .blob: ("text", "integer")
            }
            #expect(try (stored(.text("12")), stored(.integer(12))) == expected, "\(declaredType) read as \(affinity)")
        }
    }

    @Test("kept as written is not the same as fitting: text in an INTEGER column, a number in a TEXT one")
    func keptButNotFitting() {
        #expect(!ColumnAffinity.integer.fits(.text("abc")))
        #expect(!ColumnAffinity.integer.fits(.real(1.5)))
        #expect(!ColumnAffinity.text.fits(.integer(12)))
        #expect(!ColumnAffinity.real.fits(.integer(3)))
        #expect(!ColumnAffinity.numeric.fits(.real(5.0)) && ColumnAffinity.numeric.fits(.real(5.5)) && ColumnAffinity.numeric.fits(.integer(5)))
        #expect(!ColumnAffinity.real.fits(.real(.nan)))
        #expect(ColumnAffinity.text.fits(.null) && ColumnAffinity.blob.fits(.text("x")))
    }

    @Test("the first matching rule wins, as in SQLite")
    func ruleOrder() {
        #expect(ColumnAffinity(declaredType: "CHARINT") == .integer)
        #expect(ColumnAffinity(declaredType: "FLOATING POINT") == .integer)
        #expect(ColumnAffinity(declaredType: "STRING") == .numeric)
        #expect(ColumnAffinity(declaredType: "varchar(40)") == .text)
        #expect(ColumnAffinity(declaredType: "") == .blob)
    }
}

