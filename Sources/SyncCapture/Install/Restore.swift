import Foundation
import GRDB
import SyncCore

/// Evidence that the DMS file is older than what this store already sent: it was restored
/// from a backup, or put back from another copy. dealersync's state lives inside the DMS
/// file (its clocks must commit with the rows), so a restore rolls both back together and
/// nothing inside the file can tell. Two witnesses outside it can:
///
/// - the state file beside the DMS file (`<db>.dealersync-state`), which the agent updates
///   with its write counter after each cycle;
/// - HQ, which answers every pull with the highest batch sequence it acknowledged from this
///   store (`X-Dealersync-Acked-Sequence`): it catches a restore of the whole directory.
public struct RestoreEvidence: Hashable, Sendable {
    /// The write counter in the DMS file now.
    public var fileCounter: UInt64
    /// The highest counter a witness saw.
    public var witnessed: UInt64
    /// "the state file" or "HQ".
    public var witness: String
}

/// The state file beside the DMS file: this node's id and the highest write counter the
/// agent saw committed. Written atomically (temporary file, fsync, rename).
struct StateFile {
    let path: String

    init(databasePath: String) { path = databasePath + ".dealersync-state" }

    func read(node: NodeID) -> UInt64? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let fields = Dictionary(
            text.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: "=", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }, uniquingKeysWith: { _, last in last })
        // A state file of another node (a DMS file copied between stores) is no witness.
        guard fields["node"] == node.rawValue else { return nil }
        return fields["counter"].flatMap(UInt64.init)
    }

    func write(node: NodeID, counter: UInt64) throws {
        let temporary = path + ".tmp"
        let data = Data("node=\(node.rawValue)\ncounter=\(counter)\n".utf8)
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CaptureError(
                .databaseUnavailable, "cannot write \(temporary)",
                hint: "the agent needs write access to the DMS file's directory (it keeps its state file there)")
        }
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: temporary))
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw CaptureError(.databaseUnavailable, "cannot replace \(path): \(String(cString: strerror(errno)))", hint: "check the directory's permissions")
        }
    }
}

extension DealerDatabase {
    var stateFile: StateFile { StateFile(databasePath: settings.databasePath) }

    /// The write counter committed in the DMS file.
    func fileCounter(_ db: Database) throws -> UInt64 {
        UInt64(try SyncTables.meta(db, .counter).flatMap(Int64.fromDatabaseValue) ?? 0)
    }

    /// Saves the write counter to the state file when it moved (after a cycle's commits).
    public func recordCounterHighWater() throws {
        let counter = try read { db in try fileCounter(db) }
        if let saved = stateFile.read(node: node), saved >= counter { return }
        try stateFile.write(node: node, counter: counter)
    }

    /// What shows the DMS file is older than what this store already sent, or nil.
    /// `hqAcknowledged` is HQ's answer on the last pull, when there was one.
    public func restoreEvidence(hqAcknowledged: UInt64? = nil) throws -> RestoreEvidence? {
        let counter = try read { db in try fileCounter(db) }
        if let hq = hqAcknowledged, hq > counter { return RestoreEvidence(fileCounter: counter, witnessed: hq, witness: "HQ") }
        if let saved = stateFile.read(node: node), saved > counter {
            return RestoreEvidence(fileCounter: counter, witnessed: saved, witness: "the state file")
        }
        return nil
    }

    /// The recovery in progress (its one-line description), nil when none.
    public func recovery() throws -> String? {
        try read { db in try SyncTables.meta(db, .recovery).flatMap(String.fromDatabaseValue) }
    }

    /// Starts recovering from a restored file: the write counter jumps past every counter a
    /// witness saw (a counter used twice would make HQ drop the new write as already seen),
    /// outbox batches HQ already acknowledged go, and the pull cursor is cleared, so the
    /// next pulls bring HQ's current version of every row this store holds (the caller asks
    /// HQ to resend them). Until `finishRecovery`, nothing is stamped.
    public func beginRecovery(_ evidence: RestoreEvidence, hqAcknowledged: UInt64?, nowMillis: Int64) throws {
        try write { db in
            let counter = max(try fileCounter(db), evidence.witnessed)
            try SyncTables.setMeta(db, .counter, Int64(counter))
            if let acknowledged = hqAcknowledged {
                try db.execute(sql: "DELETE FROM _dealersync_outbox WHERE last_sequence <= ?", arguments: [Int64(acknowledged)])
            }
            try SyncTables.setMeta(db, .pullCursor, nil)
            try SyncTables.setMeta(
                db, .recovery,
                "\(Self.isoDate(nowMillis)): the DMS file is older than what this store sent (its write counter is \(evidence.fileCounter), \(evidence.witness) saw \(evidence.witnessed)): restored from a backup or copied back")
        }
        try stateFile.write(node: node, counter: max(evidence.witnessed, evidence.fileCounter))
    }

    /// Ends the recovery once every row HQ resent is applied; stamping resumes.
    public func finishRecovery(nowMillis: Int64) throws -> String? {
        try write { db in
            guard let recovery = try SyncTables.meta(db, .recovery).flatMap(String.fromDatabaseValue) else { return nil }
            let conflicts = try Int.fetchOne(db, sql: "SELECT count(*) FROM _dealersync_conflicts WHERE reason = 'restored-backup' AND resolved_at IS NULL") ?? 0
            let summary = "\(recovery); recovered at \(Self.isoDate(nowMillis)), \(conflicts) edits made on the restored copy replaced by HQ's newer rows (see `dealersync conflicts list`)"
            try SyncTables.setMeta(db, .recovery, nil)
            try SyncTables.setMeta(db, .lastRecovery, summary)
            return summary
        }
    }
}
