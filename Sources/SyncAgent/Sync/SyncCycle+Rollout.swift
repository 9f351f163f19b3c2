import Foundation
import Logging
import Synchronization
import SyncCapture
import SyncCore

/// The agent's side of schema rollout and remote requests (docs/ROLLOUT.md).
extension SyncCycle {
    /// Fetches and installs the schema HQ assigns when it is not the one installed. True when
    /// the pull cursor was cleared (a newly pulled table) and pulling must start over.
    /// A schema the store cannot adopt is logged once and the store goes on under its own:
    /// HQ keeps merging its batches under the version they carry.
    func adoptSchema(_ assigned: UInt64) async throws -> Bool {
        guard let installed = try database.installedSchemaVersion(), installed != assigned,
              !refusedSchemas.withLock({ $0.contains(assigned) })
        else { return false }
        guard let yaml = try await client.fetchSchema() else {
            refuse(assigned, "HQ names schema version \(assigned) but does not serve it (an older HQ); staying on version \(installed)")
            return false
        }
        let schema: SyncSchema
        do {
            schema = try SyncSchema(yaml: yaml, source: "schema from HQ")
        } catch let error as SyncCoreError {
            refuse(assigned, "HQ's schema version \(assigned) does not parse here: \(error.message); staying on version \(installed)")
            return false
        }
        do {
            guard let upgrade = try database.upgradeSchema(to: schema) else { return false }
            logger.notice(
                "sync schema upgraded",
                metadata: [
                    "from": "\(upgrade.fromVersion)", "to": "\(upgrade.toVersion)", "added_tables": "\(upgrade.addedTables.joined(separator: ","))",
                    "snapshot_rows": "\(upgrade.snapshotRows)", "waiting_tables": "\(upgrade.waitingTables.joined(separator: ","))",
                    "pull_restarted": "\(upgrade.pullRestarted)",
                ])
            return upgrade.pullRestarted
        } catch let error as CaptureError {
            refuse(schema.version, "\(error.message); staying on version \(installed)", hint: error.hint)
            return false
        }
    }

    private func refuse(_ version: UInt64, _ message: String, hint: String = "check the schema published at HQ (`dealersync hq schema list`)") {
        refusedSchemas.withLock { _ = $0.insert(version) }
        logger.error("cannot adopt the sync schema HQ assigns", metadata: ["version": "\(version)", "reason": "\(message)", "hint": "\(hint)"])
    }

    /// Rows asked for in one pull: the group's setting at HQ, else the local config's.
    public var pullPageRows: Int { groupSettings.withLock { $0?.pageRows } ?? settings.pullPageRows }
    /// The longest wait between cycles: the group's setting at HQ, else the local config's.
    public var pollIntervalMillis: Int { groupSettings.withLock { $0?.pollSeconds.map { $0 * 1_000 } } ?? settings.pollIntervalMillis }

    /// Takes the settings HQ sent with a pull (nil: none set, so the local config applies).
    func applyGroupSettings(_ published: GroupAgentSettings?) {
        let changed = groupSettings.withLock { current -> Bool in
            defer { current = published }
            return current != published
        }
        if changed {
            logger.notice(
                "agent settings from HQ", metadata: ["settings": "\(published?.headerValue ?? "none: the local config applies")"])
        }
    }

    /// Runs HQ's request and reports its progress every two seconds and at the end. A
    /// request that fails is reported failed with its error code; HQ shows it.
    func run(_ request: StoreRequest) async throws {
        switch request.kind {
        case .resync:
            let step = LatestProgress(StoreRequestProgress(state: .running, done: 0, total: 0, message: "starting"))
            try await client.reportProgress(step.value, request: request)
            let database = self.database
            let tables = request.table.map { [$0] }
            let work = Task.detached {
                try database.resync(tables: tables) { progress in
                    step.value = StoreRequestProgress(state: .running, done: progress.done, total: progress.total, message: "\(progress.step) \(progress.table)")
                }
            }
            let reporter = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(2))
                    try await client.reportProgress(step.value, request: request)
                }
            }
            let final: StoreRequestProgress
            do {
                let report = try await work.value
                final = StoreRequestProgress(
                    state: .done, done: report.checked, total: report.checked,
                    message: "checked \(report.checked), queued \(report.unsyncedRows) unsynced and \(report.vanishedRows) vanished rows")
                logger.notice("resync requested by HQ done", metadata: ["request": "\(request.id)", "summary": "\(final.message ?? "")"])
            } catch let error as CaptureError {
                final = StoreRequestProgress(state: .failed, done: 0, total: 0, message: error.code.description)
                logger.error("resync requested by HQ failed", metadata: ["request": "\(request.id)", "error": "\(error.message)"])
            }
            reporter.cancel()
            try await client.reportProgress(final, request: request)
        }
    }
}

/// The last progress a request's work reported, read by the task that sends it to HQ.
private final class LatestProgress: Sendable {
    private let progress: Mutex<StoreRequestProgress>
    init(_ first: StoreRequestProgress) { progress = Mutex(first) }
    var value: StoreRequestProgress {
        get { progress.withLock { $0 } }
        set { progress.withLock { $0 = newValue } }
    }
}

/// Logs how much a store far behind still has to pull, at most every five seconds.
final class CatchUpProgress: Sendable {
    private let lastLog = Mutex<ContinuousClock.Instant?>(nil)

    func show(remaining: Int, logger: Logger) {
        let now = ContinuousClock.now
        let due = lastLog.withLock { last -> Bool in
            guard last.map({ now - $0 >= .seconds(5) }) ?? true else { return false }
            last = now
            return true
        }
        if due { logger.info("catching up with HQ", metadata: ["rows_left": "\(remaining)"]) }
    }
}
