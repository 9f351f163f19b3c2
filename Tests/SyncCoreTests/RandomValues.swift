import SyncCore
import SyncTestSupport

enum SyncTestSupportShim {
    static func generator(seed: UInt64) -> SeededGenerator { SeededGenerator(seed: seed) }
}

/// Random SQLite values with the awkward cases over-represented.
enum RandomValues {
    static func value(using generator: inout SeededGenerator) -> SQLValue {
        switch Int.random(in: 0..<8, using: &generator) {
        case 0: return .null
        case 1: return .integer(Int64.random(in: -3...3, using: &generator))
        case 2: return .integer(Int64.random(in: .min ... .max, using: &generator))
        case 3: return .real([1.0, -0.0, 0.0, 1e308, 5e-324, 2.5][Int.random(in: 0..<6, using: &generator)])
        case 4: return .text(["", "a", "ab", "b", "张伟", "🚗"][Int.random(in: 0..<6, using: &generator)])
        case 5: return .text(String(UInt64.random(in: 0...99, using: &generator)))
        case 6: return .blob((0..<Int.random(in: 0...3, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        default: return .real(Double(Int.random(in: 0...3, using: &generator)))
        }
    }
}
