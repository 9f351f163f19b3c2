import SyncCore

/// The compact form of a row's clock metadata in `_dealersync_clock`: a `RowVersion`
/// without the values the DMS table already holds.
///
/// Most columns of a row share one write (they were inserted or last updated together),
/// so that write is stored once and a bit mask says which columns use it; only columns
/// with their own write follow. Values are stored only where the DMS table cannot give
/// them: the losing writes of a conflict, and columns the DMS table does not have (added
/// elsewhere, or dropped here). A deleted row keeps no column writes: its values are gone
/// from the DMS, and the merge treats a missing column as unknown, never as NULL.
///
///     record  := nodes(count, string*) vv(count, (node, counter)*) baseHLC
///                origin(node, hlcDelta) liveness(count, (alive, node, counter, hlcDelta)*)
///                hasColumns(0|1) [common(node, counter, hlcDelta) mask(len, bytes)
///                own(count, (bit, kind, ...)*) extra(count, (name, writes)*)]
///     kind    := 1 single write, value in the DMS | 2 writes with stored values
enum ClockRecord {
    static func encode(_ version: RowVersion, bitColumns: [String], liveColumns: Set<String>) -> [UInt8] {
        var nodes: [NodeID] = []
        var nodeIndex: [NodeID: Int] = [:]
        func ref(_ node: NodeID) -> Int {
            if let index = nodeIndex[node] { return index }
            nodeIndex[node] = nodes.count
            nodes.append(node)
            return nodes.count - 1
        }
        // Collect node references first so the table can be written up front.
        for entry in version.versionVector.entries { _ = ref(entry.node) }
        _ = ref(version.origin.node)
        let base = version.liveness[0].hlc.rawValue
        var body = ByteWriter()
        func writeHLC(_ hlc: HLCTimestamp) { body.writeSignedVarint(Int64(bitPattern: hlc.rawValue &- base)) }
        func writeDot(_ dot: Dot) {
            body.writeVarint(ref(dot.node))
            body.writeVarint(dot.counter)
        }
        func writeStored(_ writes: [ColumnWrite]) {
            body.writeVarint(writes.count)
            for write in writes {
                write.value.write(to: &body)
                writeDot(write.dot)
                writeHLC(write.hlc)
            }
        }

        let vv = version.versionVector.entries
        body.writeVarint(vv.count)
        for entry in vv {
            body.writeVarint(ref(entry.node))
            body.writeVarint(entry.counter)
        }
        body.writeVarint(base)
        body.writeVarint(ref(version.origin.node))
        writeHLC(version.origin.hlc)
        body.writeVarint(version.liveness.count)
        for write in version.liveness {
            body.writeByte(write.alive ? 1 : 0)
            writeDot(write.dot)
            writeHLC(write.hlc)
        }

        let keepColumns = version.liveness.contains { $0.alive } && !version.columns.isEmpty
        body.writeByte(keepColumns ? 1 : 0)
        if keepColumns {
            // The most common single write among columns whose value the DMS holds.
            var counts: [Dot: (Int, HLCTimestamp)] = [:]
            for (column, writes) in version.columns where writes.count == 1 && liveColumns.contains(column) {
                counts[writes[0].dot, default: (0, writes[0].hlc)].0 += 1
            }
            let common = counts.max { $0.value.0 != $1.value.0 ? $0.value.0 < $1.value.0 : $0.key > $1.key }
            let commonDot = common?.key ?? version.liveness[0].dot
            let commonHLC = common?.value.1 ?? version.liveness[0].hlc
            writeDot(commonDot)
            writeHLC(commonHLC)

            var mask = [UInt8](repeating: 0, count: (bitColumns.count + 7) / 8)
            var own: [(Int, [ColumnWrite], stored: Bool)] = []
            var extra: [(String, [ColumnWrite])] = []
            let bitOf = Dictionary(uniqueKeysWithValues: bitColumns.enumerated().map { ($1, $0) })
            for column in version.columns.keys.sorted() {
                let writes = version.columns[column]!
                guard let bit = bitOf[column] else {
                    extra.append((column, writes))
                    continue
                }
                let live = liveColumns.contains(column)
                if writes.count == 1 && live && writes[0].dot == commonDot && writes[0].hlc == commonHLC {
                    mask[bit / 8] |= 1 << (bit % 8)
                } else {
                    own.append((bit, writes, stored: writes.count > 1 || !live))
                }
            }
            body.writeBlob(mask)
            body.writeVarint(own.count)
            for (bit, writes, stored) in own {
                body.writeVarint(bit)
                body.writeByte(stored ? 2 : 1)
                if stored {
                    writeStored(writes)
                } else {
                    writeDot(writes[0].dot)
                    writeHLC(writes[0].hlc)
                }
            }
            body.writeVarint(extra.count)
            for (name, writes) in extra {
                body.writeString(name)
                writeStored(writes)
            }
        }

        var record = ByteWriter(reservingCapacity: body.bytes.count + 16)
        record.writeVarint(nodes.count)
        for node in nodes { record.writeString(node.rawValue) }
        record.writeRaw(body.bytes)
        return record.bytes
    }

    /// Rebuilds the version, taking single-write values from `dmsValues` (the row as the DMS
    /// table holds it now; nil when the row is gone, which leaves those columns unknown).
    static func decode(
        _ bytes: [UInt8], table: String, key: RowKey, bitColumns: [String], dmsValues: [String: SQLValue]?
    ) throws -> RowVersion {
        var reader = ByteReader(bytes)
        reader.context = "clock of a row in '\(table)'"
        do {
            let nodeCount = try reader.readCount(maximum: reader.remaining, of: "node count")
            var nodes: [NodeID] = []
            for _ in 0..<nodeCount { nodes.append(try NodeID(try reader.readString())) }
            func node() throws -> NodeID { nodes[try reader.readCount(maximum: nodes.count - 1, of: "node reference")] }
            var vv: [NodeID: UInt64] = [:]
            for _ in 0..<(try reader.readCount(maximum: reader.remaining, of: "vv size")) {
                let n = try node()
                vv[n] = try reader.readVarint()
            }
            let base = try reader.readVarint()
            func hlc() throws -> HLCTimestamp { HLCTimestamp(rawValue: base &+ UInt64(bitPattern: try reader.readSignedVarint())) }
            func dot() throws -> Dot { Dot(node: try node(), counter: try reader.readVarint()) }
            func stored() throws -> [ColumnWrite] {
                try (0..<(try reader.readCount(maximum: reader.remaining, of: "write count"))).map { _ in
                    ColumnWrite(value: try SQLValue.read(from: &reader), dot: try dot(), hlc: try hlc())
                }
            }
            let origin = RowOrigin(node: try node(), hlc: try hlc())
            var liveness: [LivenessWrite] = []
            for _ in 0..<(try reader.readCount(maximum: reader.remaining, of: "liveness count")) {
                let alive = try reader.readByte() == 1
                liveness.append(LivenessWrite(alive: alive, dot: try dot(), hlc: try hlc()))
            }
            var columns: [String: [ColumnWrite]] = [:]
            if try reader.readByte() == 1 {
                let commonDot = try dot()
                let commonHLC = try hlc()
                let mask = try reader.readBlob()
                func dmsValue(_ column: String) -> SQLValue? { dmsValues.map { $0[column] ?? .null } }
                for (bit, column) in bitColumns.enumerated() where bit / 8 < mask.count && mask[bit / 8] & (1 << (bit % 8)) != 0 {
                    if let value = dmsValue(column) { columns[column] = [ColumnWrite(value: value, dot: commonDot, hlc: commonHLC)] }
                }
                for _ in 0..<(try reader.readCount(maximum: reader.remaining, of: "column count")) {
                    let column = bitColumns[try reader.readCount(maximum: bitColumns.count - 1, of: "column bit")]
                    if try reader.readByte() == 2 {
                        columns[column] = try stored()
                    } else {
                        let write = (try dot(), try hlc())
                        if let value = dmsValue(column) { columns[column] = [ColumnWrite(value: value, dot: write.0, hlc: write.1)] }
                    }
                }
                for _ in 0..<(try reader.readCount(maximum: reader.remaining, of: "extra column count")) {
                    let name = try reader.readString()
                    columns[name] = try stored()
                }
            }
            guard reader.isAtEnd, !liveness.isEmpty else { throw reader.error(.malformedBatch, "record has extra or missing parts") }
            return RowVersion(
                table: table, key: key, versionVector: VersionVector(vv), origin: origin, liveness: liveness, columns: columns)
        } catch let error as SyncCoreError {
            throw CaptureError(
                .corruptMetadata, "the stored clock of a row in '\(table)' is unreadable: \(error.message)",
                hint: "run `dealersync resync` to rebuild clock metadata from HQ")
        }
    }
}
