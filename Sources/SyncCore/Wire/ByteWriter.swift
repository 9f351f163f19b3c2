/// Appends the primitives of the dealersync binary format to a byte buffer.
///
/// Integers are LEB128 varints (unsigned) or zigzag varints (signed); REALs are their
/// 8-byte IEEE-754 bit pattern, little-endian; strings and blobs are a varint length then
/// the bytes. Every encoding is canonical: one value has exactly one byte form.
package struct ByteWriter {
    package private(set) var bytes: [UInt8] = []

    package init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    package mutating func writeByte(_ byte: UInt8) { bytes.append(byte) }

    package mutating func writeRaw<C: Collection>(_ raw: C) where C.Element == UInt8 { bytes.append(contentsOf: raw) }

    package mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    package mutating func writeVarint(_ value: Int) { writeVarint(UInt64(value)) }

    package mutating func writeSignedVarint(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    package mutating func writeFixed64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    package mutating func writeString(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            writeVarint(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    package mutating func writeBlob(_ blob: [UInt8]) {
        writeVarint(blob.count)
        bytes.append(contentsOf: blob)
    }
}
