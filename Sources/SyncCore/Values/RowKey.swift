/// The identity of a row within its table: the values of all its primary-key columns, in
/// key order, with a canonical byte encoding.
///
/// The encoding is the wire form of each value (storage-class tag, then a length-prefixed
/// or fixed-size payload), so it is unambiguous: `("a","bc")` and `("ab","c")` differ, and
/// `1`, `1.0` and `"1"` differ. Two keys are equal exactly when their encodings are equal,
/// and keys sort by their encoding, which is the same order on every node.
public struct RowKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let values: [SQLValue]
    /// The canonical encoding: a varint column count, then each value's wire form.
    public let bytes: [UInt8]

    public init(_ values: [SQLValue]) {
        self.values = values
        var writer = ByteWriter(reservingCapacity: 16)
        writer.writeVarint(values.count)
        for value in values { value.write(to: &writer) }
        self.bytes = writer.bytes
    }

    /// Decodes a key from its canonical encoding, refusing anything else.
    public init(bytes: [UInt8]) throws {
        var reader = ByteReader(bytes)
        reader.context = "row key"
        self = try RowKey.read(from: &reader)
        guard reader.isAtEnd else { throw reader.error(.trailingData, "bytes follow the key") }
    }

    static func read(from reader: inout ByteReader) throws -> RowKey {
        let count = try reader.readCount(maximum: RowLimits.readable.maxKeyValues, of: "key column count")
        guard count > 0 else { throw reader.error(.malformedBatch, "key has no columns") }
        var values: [SQLValue] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try SQLValue.read(from: &reader)) }
        return RowKey(values)
    }

    public static func == (lhs: RowKey, rhs: RowKey) -> Bool { lhs.bytes == rhs.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
    public static func < (lhs: RowKey, rhs: RowKey) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

    /// The storage classes only: keys can be customer data (a phone number), so they are
    /// never printed.
    public var description: String { "(" + values.map(\.storageClass).joined(separator: ", ") + ")" }
}
