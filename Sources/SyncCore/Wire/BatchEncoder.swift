/// Writes a batch in wire format version 1 (docs/WIRE-FORMAT.md):
///
///     "DSYN" formatVersion dealer schemaVersion firstSequence lastSequence baseHLC
///     strings(count, sorted unique) rows(count, row...)
///
/// Table names, column names and node ids are written once in the string table and
/// referenced by index; HLCs are written as the difference from the smallest HLC in the
/// batch. Both keep a typical changed row well under 60 bytes before gzip.
extension Batch {
    static let magic: [UInt8] = Array("DSYN".utf8)

    /// The uncompressed wire form.
    public func encoded() -> [UInt8] {
        let strings = StringTable(for: rows)
        let baseHLC = rows.lazy.flatMap(\.allHLCs).min() ?? .zero
        var writer = ByteWriter(reservingCapacity: 64 + rows.count * 64)
        writer.writeRaw(Self.magic)
        writer.writeVarint(Self.formatVersion)
        writer.writeString(dealer.rawValue)
        writer.writeVarint(schemaVersion)
        writer.writeVarint(firstSequence)
        writer.writeVarint(lastSequence)
        writer.writeVarint(baseHLC.rawValue)
        writer.writeVarint(strings.sorted.count)
        for string in strings.sorted { writer.writeString(string) }
        writer.writeVarint(rows.count)
        for row in rows {
            row.write(to: &writer, strings: strings, baseHLC: baseHLC)
        }
        return writer.bytes
    }
}

/// The sorted, de-duplicated names a batch references, and their indexes.
struct StringTable {
    let sorted: [String]
    private let index: [String: Int]

    init(for rows: [RowVersion]) {
        var all = Set<String>()
        for row in rows {
            all.insert(row.table)
            all.insert(row.origin.node.rawValue)
            for entry in row.versionVector.entries { all.insert(entry.node.rawValue) }
            for write in row.liveness { all.insert(write.dot.node.rawValue) }
            for (column, writes) in row.columns {
                all.insert(column)
                for write in writes { all.insert(write.dot.node.rawValue) }
            }
        }
        sorted = all.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        index = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
    }

    subscript(string: String) -> Int { index[string]! }
}

extension RowVersion {
    var allHLCs: [HLCTimestamp] {
        [origin.hlc] + liveness.map(\.hlc) + columns.values.flatMap { $0.map(\.hlc) }
    }

    /// row := table key vv origin liveness columns (see docs/WIRE-FORMAT.md)
    func write(to writer: inout ByteWriter, strings: StringTable, baseHLC: HLCTimestamp) {
        func writeDot(_ dot: Dot) {
            writer.writeVarint(strings[dot.node.rawValue])
            writer.writeVarint(dot.counter)
        }
        func writeHLC(_ hlc: HLCTimestamp) { writer.writeVarint(hlc.rawValue - baseHLC.rawValue) }

        writer.writeVarint(strings[table])
        writer.writeRaw(key.bytes)
        let vv = versionVector.entries
        writer.writeVarint(vv.count)
        for entry in vv {
            writer.writeVarint(strings[entry.node.rawValue])
            writer.writeVarint(entry.counter)
        }
        writer.writeVarint(strings[origin.node.rawValue])
        writeHLC(origin.hlc)
        writer.writeVarint(liveness.count)
        for write in liveness {
            writer.writeByte(write.alive ? 1 : 0)
            writeDot(write.dot)
            writeHLC(write.hlc)
        }
        let names = columns.keys.sorted { strings[$0] < strings[$1] }
        writer.writeVarint(names.count)
        for name in names {
            let writes = columns[name]!
            writer.writeVarint(strings[name])
            writer.writeVarint(writes.count)
            for write in writes {
                write.value.write(to: &writer)
                writeDot(write.dot)
                writeHLC(write.hlc)
            }
        }
    }

    /// The canonical bytes of this version alone (a one-row batch body without header
    /// fields that vary): equal versions have equal bytes, on every node.
    public var canonicalBytes: [UInt8] {
        let strings = StringTable(for: [self])
        var writer = ByteWriter()
        writer.writeVarint(strings.sorted.count)
        for string in strings.sorted { writer.writeString(string) }
        write(to: &writer, strings: strings, baseHLC: .zero)
        return writer.bytes
    }
}
