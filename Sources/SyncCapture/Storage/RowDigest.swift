import SyncCore

/// A 64-bit fingerprint of a row's values as the DMS held them when dealersync last
/// stamped or applied the row, kept at the end of its clock record.
///
/// The clock record holds no values (the DMS table does), so without it an UPDATE made
/// while capture was off (triggers dropped by a table rebuild) left no trace. Reconciling
/// a table compares each row's digest now with the stored one: equal means nothing to
/// send, different means the row changed unseen. Exact on storage class and bytes, as
/// the triggers are (1 and 1.0, 'a' and 'A' differ).
struct RowDigest: Hashable {
    var value: UInt64
    /// How many of the table's bit columns it covers (`bitColumns[0..<basis]`): a column a
    /// DMS upgrade adds later is outside it, so adding a column does not make every row
    /// look changed.
    var basis: Int

    /// FNV-1a over (bit, value in its wire form) of each column of `bitColumns[0..<basis]`
    /// that `values` has.
    static func of(_ values: [String: SQLValue], bitColumns: [String], basis: Int? = nil) -> RowDigest {
        let basis = min(basis ?? bitColumns.count, bitColumns.count)
        var writer = ByteWriter(reservingCapacity: 64)
        for bit in 0..<basis {
            guard let value = values[bitColumns[bit]] else { continue }
            writer.writeVarint(bit)
            value.write(to: &writer)
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in writer.bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return RowDigest(value: hash, basis: basis)
    }

    /// The trailer's size: the digest, then the basis, both little-endian.
    static let encodedSize = 10

    func encoded() -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } + [UInt8(basis & 0xFF), UInt8((basis >> 8) & 0xFF)]
    }

    init(value: UInt64, basis: Int) {
        self.value = value
        self.basis = basis
    }

    init(encoded bytes: ArraySlice<UInt8>) {
        let start = bytes.startIndex
        value = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[start + $1]) << (8 * $1) }
        basis = Int(bytes[start + 8]) | Int(bytes[start + 9]) << 8
    }
}
