/// Reads a batch in wire format version 1, refusing anything the encoder would not have
/// written: unknown tags, unsorted or duplicate names and dots, dots the row's version
/// vector does not cover, trailing bytes. So `decode(bytes).encoded() == bytes` for every
/// accepted input, and a replay is recognised by its checksum.
///
/// Errors name the row index, table and column, never a value.
extension Batch {
    public init(decoding bytes: [UInt8], limits: BatchLimits = BatchLimits()) throws {
        var reader = ByteReader(bytes)
        reader.context = "batch header"
        let magic = try reader.readRaw(count: Self.magic.count)
        guard magic.elementsEqual(Self.magic) else {
            throw SyncCoreError(
                .malformedBatch, "batch header: the body does not start with the DSYN marker",
                hint: "send a dealersync batch, gzip-compressed, as the request body")
        }
        let version = try reader.readVarint()
        guard version == Self.formatVersion else {
            throw SyncCoreError(
                .unsupportedVersion, "batch header: format version \(version) is not the supported version \(Self.formatVersion)",
                hint: "run the same dealersync release on the agent and at HQ")
        }
        reader.context = "batch header, dealer id"
        let dealer = try NodeID(try reader.readString())
        reader.context = "batch header"
        let schemaVersion = try reader.readVarint()
        let first = try reader.readVarint()
        let last = try reader.readVarint()
        guard first <= last else { throw reader.error(.malformedBatch, "first sequence \(first) is after last sequence \(last)") }
        let baseHLC = try reader.readVarint()

        reader.context = "string table"
        let stringCount = try reader.readCount(maximum: reader.remaining, of: "string count")
        var strings: [String] = []
        strings.reserveCapacity(stringCount)
        for _ in 0..<stringCount {
            let string = try reader.readString()
            if let previous = strings.last, !previous.utf8.lexicographicallyPrecedes(string.utf8) {
                throw reader.error(.malformedBatch, "names are not sorted and unique")
            }
            strings.append(string)
        }

        reader.context = "row count"
        let rowCount = try reader.readVarint()
        guard rowCount <= UInt64(limits.maxRows) else {
            throw SyncCoreError(
                .limitExceeded, "batch has \(rowCount) rows, over the limit of \(limits.maxRows)",
                hint: "send smaller batches (agent setting batch_rows)")
        }
        guard rowCount <= UInt64(reader.remaining) else { throw reader.error(.truncated, "fewer bytes than rows") }

        var rowDecoder = RowDecoder(strings: strings, baseHLC: baseHLC, limits: limits)
        var rows: [RowVersion] = []
        rows.reserveCapacity(Int(rowCount))
        for index in 0..<Int(rowCount) {
            rows.append(try rowDecoder.read(row: index, from: &reader))
        }
        reader.context = "end of batch"
        let smallestHLC = rows.lazy.flatMap(\.allHLCs).min()?.rawValue ?? 0
        guard smallestHLC == baseHLC else {
            throw reader.error(.malformedBatch, "the base clock reading is not the smallest in the batch")
        }
        guard reader.isAtEnd else { throw reader.error(.trailingData, "\(reader.remaining) bytes follow the last row") }
        self.init(dealer: dealer, schemaVersion: schemaVersion, firstSequence: first, lastSequence: last, rows: rows)
    }
}

extension RowVersion {
    /// Decodes `canonicalBytes`: how HQ and the agent store a version in a single column.
    public init(canonicalBytes bytes: [UInt8]) throws {
        var reader = ByteReader(bytes)
        reader.context = "stored row version"
        let count = try reader.readCount(maximum: reader.remaining, of: "string count")
        var strings: [String] = []
        for _ in 0..<count { strings.append(try reader.readString()) }
        var decoder = RowDecoder(strings: strings, baseHLC: 0, limits: BatchLimits())
        self = try decoder.read(row: 0, from: &reader)
        guard reader.isAtEnd else { throw reader.error(.trailingData, "bytes follow the row version") }
    }
}

/// Decodes rows against a batch's string table and base HLC.
private struct RowDecoder {
    let strings: [String]
    let baseHLC: UInt64
    let limits: BatchLimits
    private var nodeCache: [Int: NodeID] = [:]
    /// Entries and writes decoded so far, against `limits.maxWrites`.
    private var decodedWrites = 0

    init(strings: [String], baseHLC: UInt64, limits: BatchLimits) {
        self.strings = strings
        self.baseHLC = baseHLC
        self.limits = limits
    }

    mutating func read(row index: Int, from reader: inout ByteReader) throws -> RowVersion {
        reader.rowPosition = (index, nil, nil)
        let table = try name(&reader)
        reader.rowPosition = (index, table, nil)
        let key = try RowKey.read(from: &reader)
        reader.rowPosition = (index, table, nil)

        let vvCount = try reader.readCount(maximum: reader.remaining, of: "version vector size")
        try count(vvCount, &reader)
        var counters: [NodeID: UInt64] = [:]
        var previousNode: Int = -1
        for _ in 0..<vvCount {
            let ref = try reader.readCount(maximum: strings.count - 1, of: "node reference")
            guard ref > previousNode else { throw reader.error(.malformedBatch, "version vector nodes are not sorted and unique") }
            previousNode = ref
            let counter = try reader.readVarint()
            guard counter > 0 else { throw reader.error(.malformedBatch, "version vector holds a zero counter") }
            counters[try node(ref, &reader)] = counter
        }
        let vv = VersionVector(counters)
        let origin = RowOrigin(node: try node(try ref(&reader), &reader), hlc: try hlc(&reader))

        let livenessCount = try reader.readCount(maximum: limits.maxWritesPerColumn, of: "existence write count")
        guard livenessCount > 0 else { throw reader.error(.malformedBatch, "row has no existence write") }
        try count(livenessCount, &reader)
        var liveness: [LivenessWrite] = []
        for _ in 0..<livenessCount {
            let flag = try reader.readByte()
            guard flag <= 1 else { throw reader.error(.malformedBatch, "existence flag is \(flag), not 0 or 1") }
            liveness.append(LivenessWrite(alive: flag == 1, dot: try dot(&reader, vv), hlc: try hlc(&reader)))
        }
        try checkSorted(liveness.map(\.dot), &reader)

        let columnCount = try reader.readCount(maximum: limits.maxColumnsPerRow, of: "column count")
        var columns: [String: [ColumnWrite]] = [:]
        var previousColumn = -1
        for _ in 0..<columnCount {
            reader.rowPosition = (index, table, nil)
            let ref = try ref(&reader)
            guard ref > previousColumn else { throw reader.error(.malformedBatch, "columns are not sorted and unique") }
            previousColumn = ref
            let column = strings[ref]
            reader.rowPosition = (index, table, column)
            let writeCount = try reader.readCount(maximum: limits.maxWritesPerColumn, of: "write count")
            guard writeCount > 0 else { throw reader.error(.malformedBatch, "column has no write") }
            try count(writeCount, &reader)
            var writes: [ColumnWrite] = []
            for _ in 0..<writeCount {
                let value = try SQLValue.read(from: &reader)
                writes.append(ColumnWrite(value: value, dot: try dot(&reader, vv), hlc: try hlc(&reader)))
            }
            try checkSorted(writes.map(\.dot), &reader)
            columns[column] = writes
        }
        return RowVersion(
            table: table, key: key, versionVector: vv, origin: origin, liveness: liveness, columns: columns)
    }

    /// Counts decoded entries and writes before they are allocated.
    private mutating func count(_ items: Int, _ reader: inout ByteReader) throws {
        decodedWrites += items
        guard decodedWrites <= limits.maxWrites else {
            throw SyncCoreError(
                .limitExceeded, "batch holds more than \(limits.maxWrites) column writes and version entries",
                hint: "send smaller batches (agent setting batch_rows)")
        }
    }

    private func ref(_ reader: inout ByteReader) throws -> Int {
        guard !strings.isEmpty else { throw reader.error(.malformedBatch, "reference into an empty string table") }
        return try reader.readCount(maximum: strings.count - 1, of: "name reference")
    }

    private func name(_ reader: inout ByteReader) throws -> String { strings[try ref(&reader)] }

    private mutating func node(_ ref: Int, _ reader: inout ByteReader) throws -> NodeID {
        if let cached = nodeCache[ref] { return cached }
        do {
            let node = try NodeID(strings[ref])
            nodeCache[ref] = node
            return node
        } catch {
            throw reader.error(.malformedBatch, "a node reference names something that is not a node id")
        }
    }

    private mutating func dot(_ reader: inout ByteReader, _ vv: VersionVector) throws -> Dot {
        let dot = Dot(node: try node(try ref(&reader), &reader), counter: try reader.readVarint())
        guard dot.counter > 0, vv.covers(dot) else {
            throw reader.error(.malformedBatch, "write \(dot) is not covered by the row's version vector")
        }
        return dot
    }

    private func hlc(_ reader: inout ByteReader) throws -> HLCTimestamp {
        let delta = try reader.readVarint()
        let (raw, overflow) = baseHLC.addingReportingOverflow(delta)
        guard !overflow else { throw reader.error(.malformedBatch, "clock reading overflows 64 bits") }
        return HLCTimestamp(rawValue: raw)
    }

    private func checkSorted(_ dots: [Dot], _ reader: inout ByteReader) throws {
        for pair in zip(dots, dots.dropFirst()) where !(pair.0 < pair.1) {
            throw reader.error(.malformedBatch, "writes are not sorted by dot or repeat one")
        }
    }
}
