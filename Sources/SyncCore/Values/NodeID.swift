/// The identity of a node in the sync network: `hq`, or a dealer id such as `DLR-0421`.
///
/// HQ issues dealer ids and never reuses them; they appear in every version vector, so they
/// are short, printable and compared byte-wise (the final tie-break of the merge rule).
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// HQ's own node id.
    public static let hq = NodeID(unchecked: "hq")

    /// The longest id accepted, in bytes.
    public static let maximumLength = 64

    /// Creates a node id, checking it is 1–64 characters of `A-Z a-z 0-9 . _ -`.
    public init(_ rawValue: String) throws {
        guard !rawValue.isEmpty, rawValue.utf8.count <= Self.maximumLength,
            rawValue.utf8.allSatisfy(Self.isAllowed)
        else {
            throw SyncCoreError(
                .invalidNodeID,
                "node id is not 1-\(Self.maximumLength) characters of letters, digits, '.', '_' or '-'",
                hint: "use an id such as DLR-0421")
        }
        self.rawValue = rawValue
    }

    init(unchecked rawValue: String) { self.rawValue = rawValue }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    /// Byte-wise order, identical on every platform and locale.
    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }

    public var description: String { rawValue }
}
