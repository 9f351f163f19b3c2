import SyncCore

/// The compact form of a row's clock metadata in `_dealersync_clock`: a `RowVersion`
/// without the values the DMS table already holds.
///
/// Most rows were last written by one event: every column, the existence flag, the origin
/// and the version vector all point at the same write. That *common write* is stored once
/// and flags say which parts use it, so a typical record is about 13 bytes. Node ids are
/// small numbers from `_dealersync_nodes`. Values are stored only where the DMS table cannot
/// give them: the losing writes of a conflict, and columns the DMS table does not have. A
/// deleted row keeps no column writes: its values are gone from the DMS, and the merge
/// treats a missing column as unknown, never as NULL.
///
///     record  := flags common(node, counter, physical-since-2020, logical)
///                [vv] [origin] [liveness] [mask] [own, extra]   -- each only when its flag says so
///     other HLCs are zigzag differences from the common write's HLC
///     own     := count (bit, kind 1: dot hlc (value in the DMS) | kind 2: stored writes)*
///     extra   := count (name, stored writes)*
///     [digest] -- 10 bytes at the very end when flag 64 is set: the `RowDigest` of the
///                 values the DMS held (records written before it have none)
enum ClockRecord {
    private struct Flags: OptionSet {
        let rawValue: UInt8
        static let hasColumns = Flags(rawValue: 1)
        static let vvIsCommon = Flags(rawValue: 2)
        static let originIsCommon = Flags(rawValue: 4)
        static let livenessIsCommon = Flags(rawValue: 8)
        static let commonIsAlive = Flags(rawValue: 16)
        static let hasOwnOrExtra = Flags(rawValue: 32)
        static let hasDigest = Flags(rawValue: 64)
    }

    /// `record` with `digest` as its trailer.
    static func appending(_ digest: RowDigest, to record: [UInt8]) -> [UInt8] {
        var bytes = record
        bytes[0] |= Flags.hasDigest.rawValue
        bytes += digest.encoded()
        return bytes
    }

    /// The digest at the end of `record`, nil for a record written without one.
    static func digest(in record: [UInt8]) -> RowDigest? {
        guard let flags = record.first, Flags(rawValue: flags).contains(.hasDigest), record.count > RowDigest.encodedSize else { return nil }
        return RowDigest(encoded: record.suffix(RowDigest.encodedSize))
    }

    /// 2020-01-01T00:00:00Z: physical clock readings are stored relative to it.
    private static let epochMillis: Int64 = 1_577_836_800_000

    static func encode(
        _ version: RowVersion, bitColumns: [String], liveColumns: Set<String>, nodeRef: (NodeID) throws -> Int
    ) rethrows -> [UInt8] {
        var writer = ByteWriter(reservingCapacity: 24)
        let keepColumns = version.liveness.contains { $0.alive } && !version.columns.isEmpty

        // The common write: the most frequent single write among DMS-held columns, else the
        // existence write.
        var counts: [Dot: (count: Int, hlc: HLCTimestamp)] = [:]
        if keepColumns {
            for (column, writes) in version.columns where writes.count == 1 && liveColumns.contains(column) {
                counts[writes[0].dot, default: (0, writes[0].hlc)].count += 1
            }
        }
        let best = counts.max { $0.value.count != $1.value.count ? $0.value.count < $1.value.count : $0.key > $1.key }
        let commonDot = best?.key ?? version.liveness[0].dot
        let commonHLC = best?.value.hlc ?? version.liveness[0].hlc

        var flags: Flags = []
        if keepColumns { flags.insert(.hasColumns) }
        let vv = version.versionVector.entries
        if vv.count == 1 && vv[0].node == commonDot.node && vv[0].counter == commonDot.counter { flags.insert(.vvIsCommon) }
        if version.origin == RowOrigin(node: commonDot.node, hlc: commonHLC) { flags.insert(.originIsCommon) }
        if version.liveness.count == 1 && version.liveness[0].dot == commonDot && version.liveness[0].hlc == commonHLC {
            flags.insert(.livenessIsCommon)
            if version.liveness[0].alive { flags.insert(.commonIsAlive) }
        }

        var mask = [UInt8](repeating: 0, count: (bitColumns.count + 7) / 8)
        var own: [(bit: Int, writes: [ColumnWrite], stored: Bool)] = []
        var extra: [(String, [ColumnWrite])] = []
        if keepColumns {
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
                    own.append((bit, writes, writes.count > 1 || !live))
                }
            }
            if !own.isEmpty || !extra.isEmpty { flags.insert(.hasOwnOrExtra) }
        }

        func writeDot(_ dot: Dot) throws {
            writer.writeVarint(try nodeRef(dot.node))
            writer.writeVarint(dot.counter)
        }
        func writeHLC(_ hlc: HLCTimestamp) { writer.writeSignedVarint(Int64(bitPattern: hlc.rawValue &- commonHLC.rawValue)) }
        func writeStored(_ writes: [ColumnWrite]) throws {
            writer.writeVarint(writes.count)
            for write in writes {
                write.value.write(to: &writer)
                try writeDot(write.dot)
                writeHLC(write.hlc)
            }
        }

        writer.writeByte(flags.rawValue)
        try writeDot(commonDot)
        writer.writeSignedVarint(Int64(commonHLC.physicalMillis) - epochMillis)
        writer.writeVarint(commonHLC.logical)
        if !flags.contains(.vvIsCommon) {
            writer.writeVarint(vv.count)
            for entry in vv {
                writer.writeVarint(try nodeRef(entry.node))
                writer.writeVarint(entry.counter)
            }
        }
        if !flags.contains(.originIsCommon) {
            writer.writeVarint(try nodeRef(version.origin.node))
            writeHLC(version.origin.hlc)
        }
        if !flags.contains(.livenessIsCommon) {
            writer.writeVarint(version.liveness.count)
            for write in version.liveness {
                writer.writeByte(write.alive ? 1 : 0)
                try writeDot(write.dot)
                writeHLC(write.hlc)
            }
        }
        if keepColumns {
            writer.writeBlob(mask)
            if flags.contains(.hasOwnOrExtra) {
                writer.writeVarint(own.count)
                for entry in own {
                    writer.writeVarint(entry.bit)
                    writer.writeByte(entry.stored ? 2 : 1)
                    if entry.stored {
                        try writeStored(entry.writes)
                    } else {
                        try writeDot(entry.writes[0].dot)
                        writeHLC(entry.writes[0].hlc)
                    }
                }
                writer.writeVarint(extra.count)
                for (name, writes) in extra {
                    writer.writeString(name)
                    try writeStored(writes)
                }
            }
        }
        return writer.bytes
    }

    /// Rebuilds the version, taking single-write values from `dmsValues` (the row as the DMS
    /// table holds it now; nil when the row is gone, which leaves those columns unknown).
    static func decode(
        _ bytes: [UInt8], table: String, key: RowKey, bitColumns: [String], dmsValues: [String: SQLValue]?,
        node nodeForRef: (Int) -> NodeID?
    ) throws -> RowVersion {
        var bytes = bytes
        if digest(in: bytes) != nil {
            bytes.removeLast(RowDigest.encodedSize)
            bytes[0] &= ~Flags.hasDigest.rawValue
        }
        var reader = ByteReader(bytes)
        reader.context = "clock of a row in '\(table)'"
        do {
            func node() throws -> NodeID {
                let ref = try reader.readCount(maximum: Int(Int32.max), of: "node reference")
                guard let node = nodeForRef(ref) else { throw reader.error(.malformedBatch, "unknown node reference \(ref)") }
                return node
            }
            func dot() throws -> Dot { Dot(node: try node(), counter: try reader.readVarint()) }
            let flags = Flags(rawValue: try reader.readByte())
            let commonDot = try dot()
            let physical = try reader.readSignedVarint() + epochMillis
            let commonHLC = HLCTimestamp(physicalMillis: UInt64(max(physical, 0)), logical: min(try reader.readVarint(), HLCTimestamp.maxLogical))
            func hlc() throws -> HLCTimestamp {
                HLCTimestamp(rawValue: commonHLC.rawValue &+ UInt64(bitPattern: try reader.readSignedVarint()))
            }
            func stored() throws -> [ColumnWrite] {
                try (0..<(try reader.readCount(maximum: reader.remaining, of: "write count"))).map { _ in
                    ColumnWrite(value: try SQLValue.read(from: &reader), dot: try dot(), hlc: try hlc())
                }
            }

            var vv: [NodeID: UInt64] = [:]
            if flags.contains(.vvIsCommon) {
                vv[commonDot.node] = commonDot.counter
            } else {
                for _ in 0..<(try reader.readCount(maximum: reader.remaining, of: "vv size")) {
                    let n = try node()
                    vv[n] = try reader.readVarint()
                }
            }
            let origin = flags.contains(.originIsCommon)
                ? RowOrigin(node: commonDot.node, hlc: commonHLC) : RowOrigin(node: try node(), hlc: try hlc())
            var liveness: [LivenessWrite] = []
            if flags.contains(.livenessIsCommon) {
                liveness = [LivenessWrite(alive: flags.contains(.commonIsAlive), dot: commonDot, hlc: commonHLC)]
            } else {
                for _ in 0..<(try reader.readCount(maximum: reader.remaining, of: "liveness count")) {
                    let alive = try reader.readByte() == 1
                    liveness.append(LivenessWrite(alive: alive, dot: try dot(), hlc: try hlc()))
                }
            }
            var columns: [String: [ColumnWrite]] = [:]
            if flags.contains(.hasColumns) {
                func dmsValue(_ column: String) -> SQLValue? { dmsValues.map { $0[column] ?? .null } }
                let mask = try reader.readBlob()
                for (bit, column) in bitColumns.enumerated() where bit / 8 < mask.count && mask[bit / 8] & (1 << (bit % 8)) != 0 {
                    if let value = dmsValue(column) { columns[column] = [ColumnWrite(value: value, dot: commonDot, hlc: commonHLC)] }
                }
                if flags.contains(.hasOwnOrExtra) {
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
