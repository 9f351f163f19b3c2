/// The wire form of a value: one tag byte naming the storage class, then the payload.
///
/// | tag | class   | payload                               |
/// |-----|---------|---------------------------------------|
/// | 0   | NULL    | none                                  |
/// | 1   | INTEGER | zigzag varint                         |
/// | 2   | REAL    | 8 bytes, IEEE-754 bits, little-endian |
/// | 3   | TEXT    | varint length, UTF-8 bytes            |
/// | 4   | BLOB    | varint length, bytes                  |
///
/// The form is self-delimiting, so a sequence of values (a composite key) has exactly one
/// encoding and no two sequences share one.
extension SQLValue {
    enum WireTag: UInt8 {
        case null = 0, integer = 1, real = 2, text = 3, blob = 4
    }

    package func write(to writer: inout ByteWriter) {
        switch self {
        case .null:
            writer.writeByte(WireTag.null.rawValue)
        case .integer(let value):
            writer.writeByte(WireTag.integer.rawValue)
            writer.writeSignedVarint(value)
        case .real(let value):
            writer.writeByte(WireTag.real.rawValue)
            writer.writeFixed64(value.bitPattern)
        case .text(let value):
            writer.writeByte(WireTag.text.rawValue)
            writer.writeString(value)
        case .blob(let value):
            writer.writeByte(WireTag.blob.rawValue)
            writer.writeBlob(value)
        }
    }

    package static func read(from reader: inout ByteReader) throws -> SQLValue {
        let tagByte = try reader.readByte()
        guard let tag = WireTag(rawValue: tagByte) else {
            throw reader.error(.malformedBatch, "unknown value type tag \(tagByte)")
        }
        switch tag {
        case .null: return .null
        case .integer: return .integer(try reader.readSignedVarint())
        case .real:
            let value = Double(bitPattern: try reader.readFixed64())
            guard !value.isNaN else { throw reader.error(.malformedBatch, "REAL value is NaN") }
            return .real(value)
        case .text: return .text(try reader.readString())
        case .blob: return .blob(try reader.readBlob())
        }
    }
}
