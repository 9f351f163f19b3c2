/// A hybrid logical clock reading: milliseconds since 1970 in the upper 48 bits and a
/// logical counter in the lower 16, so readings compare as plain integers.
///
/// 48 bits of milliseconds last until the year 10889; the logical part breaks ties between
/// events in the same millisecond and carries causality when a wall clock lags.
public struct HLCTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public static let logicalBits: UInt64 = 16
    public static let maxLogical: UInt64 = (1 << logicalBits) - 1
    public static let zero = HLCTimestamp(rawValue: 0)

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(physicalMillis: UInt64, logical: UInt64) {
        precondition(logical <= Self.maxLogical, "HLC logical part overflows 16 bits")
        precondition(physicalMillis < (1 << 48), "HLC physical part overflows 48 bits")
        rawValue = physicalMillis << Self.logicalBits | logical
    }

    public var physicalMillis: UInt64 { rawValue >> Self.logicalBits }
    public var logical: UInt64 { rawValue & Self.maxLogical }

    public static func < (lhs: HLCTimestamp, rhs: HLCTimestamp) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "\(physicalMillis).\(logical)" }
}
