/// Reads the primitives written by `ByteWriter`, refusing anything non-canonical.
///
/// Every failure names the byte offset and the `context` the decoder set (which row, which
/// field), never the bytes themselves. Lengths are checked against the bytes that remain
/// before anything is allocated, so a hostile length prefix cannot reserve memory.
package struct ByteReader {
    private let bytes: [UInt8]
    package private(set) var offset: Int = 0
    /// Where in the document the reader is, for error messages: "batch header".
    package var context: String = "header" {
        didSet { rowPosition = nil }
    }
    /// Inside a batch row, where the reader is: kept as parts and put into words only when an
    /// error is raised (building the text for every column was a visible cost of HQ's decode).
    package var rowPosition: (index: Int, table: String?, column: String?)?

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    package var isAtEnd: Bool { offset == bytes.count }
    package var remaining: Int { bytes.count - offset }

    package func error(_ code: SyncCoreError.Code, _ problem: String) -> SyncCoreError {
        SyncCoreError(
            code, "\(place): \(problem) at byte \(offset)",
            hint: code == .truncated
                ? "the body is cut short; resend the whole batch"
                : "the sender and receiver disagree on the batch format; upgrade the older side")
    }

    private var place: String {
        guard let (index, table, column) = rowPosition else { return context }
        return "row \(index)" + (table.map { " (table '\($0)')" } ?? "") + (column.map { ", column '\($0)'" } ?? "")
    }

    package mutating func readByte() throws -> UInt8 {
        guard offset < bytes.count else { throw error(.truncated, "input ends") }
        defer { offset += 1 }
        return bytes[offset]
    }

    package mutating func readRaw(count: Int) throws -> ArraySlice<UInt8> {
        guard count <= remaining else { throw error(.truncated, "input ends inside a \(count)-byte field") }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    package mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            if shift == 63 && byte > 1 {
                throw error(.malformedBatch, "integer does not fit in 64 bits")
            }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 {
                // A trailing zero group means the same number had a shorter form.
                if byte == 0 && shift > 0 { throw error(.malformedBatch, "integer is not minimally encoded") }
                return result
            }
            shift += 7
        }
    }

    /// Reads a varint that must fit in `Int` and be at most `maximum`.
    package mutating func readCount(maximum: Int, of what: String) throws -> Int {
        let value = try readVarint()
        guard value <= UInt64(maximum) else {
            throw error(.malformedBatch, "\(what) \(value) is larger than the \(maximum) allowed here")
        }
        return Int(value)
    }

    package mutating func readSignedVarint() throws -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    package mutating func readFixed64() throws -> UInt64 {
        let raw = try readRaw(count: 8)
        var value: UInt64 = 0
        for (index, byte) in raw.enumerated() { value |= UInt64(byte) << UInt64(index * 8) }
        return value
    }

    package mutating func readString() throws -> String {
        let count = try readCount(maximum: remaining, of: "text length")
        let raw = try readRaw(count: count)
        guard let string = String(validating: raw, as: UTF8.self) else {
            throw error(.malformedBatch, "text is not valid UTF-8")
        }
        return string
    }

    package mutating func readBlob() throws -> [UInt8] {
        let count = try readCount(maximum: remaining, of: "blob length")
        return Array(try readRaw(count: count))
    }
}
