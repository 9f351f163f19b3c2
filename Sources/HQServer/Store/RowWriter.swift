import Foundation
import GRDB
import SyncCore

/// Merges versions into `rows` inside one write transaction, appending each change to the
/// feed with the next sequence and keeping holders and the conflict log up to date.
///
/// A dealer's row goes through `PushAuthorization` first, against the stored version and
/// the dealer's hold on it; every merged version is checked against `RowLimits.readable`
/// and `maxRowBytes` before it is written, so nothing HQ stores can break a reader.
struct RowWriter {
    let db: Database
    let source: String
    let atMillis: Int64
    let maxRowBytes: Int
    /// HQ's SQL tables, updated with each merged row (nil: not kept).
    let tables: TablesWriter?
    private(set) var sequence: UInt64 = 0
    /// The feed's last sequence when the transaction began.
    private var startSequence: UInt64 = 0
    private(set) var conflictCount = 0

    /// What happened to one row.
    enum Outcome: Equatable {
        case applied
        case unchanged
        /// Applied, but these columns kept HQ's value (the dealer does not own them).
        case overruled([String])
        /// Not applied: dead-lettered by the caller with this reason.
        case refused(String)
    }

    init(db: Database, source: String, atMillis: Int64, maxRowBytes: Int, tables: TablesWriter? = nil) throws {
        self.db = db
        self.tables = tables
        self.source = source
        self.atMillis = atMillis
        self.maxRowBytes = maxRowBytes
        sequence = try SQLiteSyncStore.latestSequence(db)
        startSequence = sequence
    }

    /// Merges a row pushed by `dealer`, under the access rules of `PushAuthorization`.
    mutating func merge(pushed: RowVersion, spec: TableSpec, from dealer: NodeID) throws -> Outcome {
        let key = Data(pushed.key.bytes)
        let stored = try storedVersion(spec.name, key)
        let holds = spec.direction.dealerPulls
            ? try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM holders WHERE dealer = ? AND table_name = ? AND row_key = ?"),
                arguments: [dealer.rawValue, spec.name, key]) ?? false
            : true
        switch PushAuthorization(dealer: dealer, spec: spec).check(pushed, stored: stored?.version, holds: holds) {
        case .refuse(let reason):
            return .refused(reason)
        case .merge(let allowed, let overruled):
            var result = SyncCore.merge(local: stored?.version, remote: allowed, policy: spec.policy)
            if !overruled.isEmpty, let stored {
                // HQ writes its value back as a newer write, so the dealer's copy takes it too.
                var clock = try HQClock(db)
                let shown = stored.version.values(policy: spec.policy)
                for column in overruled {
                    let (dot, hlc) = clock.next(after: result.merged.latestHLC, wallMillis: atMillis)
                    result.merged.overwrite(column: column, with: shown[column] ?? .null, dot: dot, hlc: hlc)
                }
                try clock.save(db)
                result.outcome = .merged
            }
            // The pusher already has the merged version only if it is exactly what it sent.
            let changed = try write(result, previous: stored, spec: spec, pusher: dealer, pusherHasIt: result.merged == pushed)
            switch changed {
            case .refused, .overruled: return changed
            case .applied, .unchanged: return overruled.isEmpty ? changed : .overruled(overruled)
            }
        }
    }

    /// Merges HQ's own write (node `hq`).
    mutating func merge(hqVersion version: RowVersion, spec: TableSpec) throws -> Outcome {
        let stored = try storedVersion(spec.name, Data(version.key.bytes))
        let result = SyncCore.merge(local: stored?.version, remote: version, policy: spec.policy)
        return try write(result, previous: stored, spec: spec, pusher: nil, pusherHasIt: false)
    }

    /// HQ's stored version of a row and its feed sequence.
    func storedVersion(_ table: String, _ key: Data) throws -> (version: RowVersion, sequence: Int64)? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT version, feed_seq FROM rows WHERE table_name = ? AND row_key = ?"), arguments: [table, key]
        ).map { row in
            let data: Data = row["version"]
            return (try RowVersion(canonicalBytes: Array(data)), row["feed_seq"])
        }
    }

    private mutating func write(
        _ result: MergeResult, previous stored: (version: RowVersion, sequence: Int64)?, spec: TableSpec, pusher: NodeID?, pusherHasIt: Bool
    ) throws -> Outcome {
        let key = Data(result.merged.key.bytes)
        guard result.outcome != .unchanged else {
            if let pusher, pusherHasIt, spec.direction.dealerPulls, let stored {
                try hold(pusher.rawValue, spec.name, key, knownSequence: stored.sequence)
            }
            return .unchanged
        }
        if let problem = RowLimits.readable.violation(of: result.merged) {
            return .refused("merged with HQ's row, \(problem)")
        }
        let bytes = Data(result.merged.canonicalBytes)
        guard bytes.count <= maxRowBytes else {
            return .refused("merged with HQ's row it takes \(bytes.count) bytes, over limits.max_row_bytes (\(maxRowBytes))")
        }
        sequence += 1
        let seq = Int64(bitPattern: sequence)
        let policy = spec.policy
        var routed: String? = nil
        if spec.direction.dealerPulls, let column = spec.routingColumn,
            case .text(let dealer)? = result.merged.values(policy: policy)[column]
        {
            routed = dealer
        }
        try db.cachedStatement(sql: """
                INSERT INTO rows (table_name, row_key, version, feed_seq, routed_dealer) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (table_name, row_key) DO UPDATE SET
                  version = excluded.version, feed_seq = excluded.feed_seq, routed_dealer = excluded.routed_dealer
                """).execute(
            arguments: [spec.name, key, bytes, seq, routed])
        try db.cachedStatement(sql: "INSERT INTO feed (seq, table_name, row_key, version, source, at_ms) VALUES (?, ?, ?, ?, ?, ?)").execute(
            arguments: [seq, spec.name, key, bytes, source, atMillis])
        try tables?.apply(
            db, table: spec.name, merged: result.merged, sequence: seq, previousAlive: stored?.version.isAlive(policy: policy) ?? false,
            isNew: stored == nil, advancesState: false)
        if let pusher, spec.direction.dealerPulls {
            try hold(pusher.rawValue, spec.name, key, knownSequence: pusherHasIt ? seq : nil)
        }
        if let routed, routed != pusher?.rawValue {
            try hold(routed, spec.name, key, knownSequence: nil)
        }
        for conflict in result.conflicts {
            try log(conflict, seq: seq)
        }
        return .applied
    }

    /// Writes `tombstone` as the row's version as it is, not merged with the stored one (a
    /// merge would keep the stored values): an erasure (docs/PRIVACY.md). Returns its sequence.
    mutating func replace(with tombstone: RowVersion, spec: TableSpec) throws -> Int64 {
        let stored = try storedVersion(spec.name, Data(tombstone.key.bytes))
        let outcome = try write(
            MergeResult(merged: tombstone, outcome: .tookRemote, conflicts: []), previous: stored, spec: spec, pusher: nil, pusherHasIt: false)
        guard outcome == .applied else { throw StoreError(kind: .tooLarge, message: "the erasure was not stored", hint: "report this as a bug") }
        return Int64(bitPattern: sequence)
    }

    /// Ends the transaction's writes: HQ's SQL tables now show every change up to `sequence`
    /// (one update a transaction, not one a row).
    func finish() throws {
        guard let tables, sequence > startSequence else { return }
        try tables.markApplied(db, through: Int64(bitPattern: sequence))
    }

    /// Records that `dealer` holds the row; `knownSequence` is the version it already has
    /// (nil: keep what was recorded, 0 for a new holder).
    private func hold(_ dealer: String, _ table: String, _ key: Data, knownSequence: Int64?) throws {
        if let knownSequence {
            try db.cachedStatement(sql: """
                    INSERT INTO holders (dealer, table_name, row_key, known_seq) VALUES (?, ?, ?, ?)
                    ON CONFLICT DO UPDATE SET known_seq = excluded.known_seq
                    """).execute(
                arguments: [dealer, table, key, knownSequence])
        } else {
            try db.cachedStatement(sql: "INSERT INTO holders (dealer, table_name, row_key, known_seq) VALUES (?, ?, ?, 0) ON CONFLICT DO NOTHING").execute(
                arguments: [dealer, table, key])
        }
    }

    private mutating func log(_ conflict: Conflict, seq: Int64) throws {
        func json(_ value: SQLValue?) -> String? {
            value.flatMap { (try? JSONEncoder.sorted.encode(TypedValue($0))).map { String(decoding: $0, as: UTF8.self) } }
        }
        let losing = conflict.losingValues.compactMap { json($0) }.joined(separator: ",")
        try db.cachedStatement(sql: """
                INSERT INTO conflicts (identity, table_name, row_key, column_name, reason, winner, losers,
                  winning_value, losing_values, source, feed_seq, at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (identity) DO NOTHING
                """).execute(
            arguments: [
                conflict.identity, conflict.table, Data(conflict.key.bytes), conflict.column, conflict.reason.rawValue,
                conflict.winner.description, conflict.losers.map(\.description).joined(separator: ","),
                json(conflict.winningValue), "[\(losing)]", source, seq, atMillis,
            ])
        conflictCount += db.changesCount
    }
}

/// HQ's own dot counter and hybrid logical clock (`hq_clock`), read and saved inside the
/// write transaction that uses them, so HQ's dots are unique and its HLC never goes back.
struct HQClock {
    private(set) var counter: UInt64
    private var hlc: HybridLogicalClock

    init(_ db: Database) throws {
        let row = try Row.fetchOne(db, sql: "SELECT counter, hlc FROM hq_clock WHERE id = 1")!
        counter = UInt64(row["counter"] as Int64)
        hlc = HybridLogicalClock(last: HLCTimestamp(rawValue: UInt64(bitPattern: row["hlc"] as Int64)))
    }

    /// The next HQ dot, stamped after `seen` (the newest reading in the row), so HQ's write
    /// follows everything it has seen of the row even when a store's clock runs fast.
    mutating func next(after seen: HLCTimestamp, wallMillis: Int64) -> (Dot, HLCTimestamp) {
        counter += 1
        let now = (try? hlc.receive(seen, wallMillis: wallMillis)) ?? hlc.now(wallMillis: wallMillis)
        return (Dot(node: .hq, counter: counter), now)
    }

    func save(_ db: Database) throws {
        try db.execute(
            sql: "UPDATE hq_clock SET counter = ?, hlc = ? WHERE id = 1",
            arguments: [Int64(counter), Int64(bitPattern: hlc.last.rawValue)])
    }
}
