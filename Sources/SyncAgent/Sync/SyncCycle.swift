import Foundation
import Synchronization
import Logging
import SyncCapture
import SyncCore

/// What one cycle did.
public struct CycleReport: Sendable, Hashable {
    public var stampedRows = 0
    public var pushedBatches = 0
    public var pushedRows = 0
    public var pulledRows = 0
    public var appliedRows = 0
    public var conflicts = 0
    /// Rows the DMS refused in this cycle (kept and retried, see `status`).
    public var heldRows = 0
    /// Whether work was left for the next cycle (more than `maxExchangesPerCycle`).
    public var moreWaiting = false
}

/// One pass of the agent cycle (DESIGN.md): capture log → batches in the outbox → push,
/// oldest first, deleting each batch on HQ's acknowledgement → pull routed changes page by
/// page → apply each page with its cursor in the same transaction.
///
/// Any error stops the cycle where it is; everything done so far is committed, and the
/// next cycle picks up from there (the outbox and the cursor live in the DMS file).
public final class SyncCycle: Sendable {
    public let database: DealerDatabase
    let client: HQClient
    let settings: AgentSettings
    let logger: Logger
    let clock: @Sendable () -> Int64
    let offsetMeasured = OffsetMeasured()
    let shapeRefusal = ShapeRefusal()
    /// The code of the last failed cycle, reported to HQ with the store's health.
    private let lastFailure = Mutex<String?>(nil)
    /// Schema versions this store could not adopt, logged once each.
    let refusedSchemas = Mutex<Set<UInt64>>([])
    /// Throttles the "catching up" log line of a store far behind.
    let catchUp = CatchUpProgress()
    /// What HQ publishes to this store's group, over the local config (docs/ROLLOUT.md).
    let groupSettings = Mutex<GroupAgentSettings?>(nil)

    public init(
        database: DealerDatabase, transport: any DeltaTransport, settings: AgentSettings, logger: Logger,
        clock: @escaping @Sendable () -> Int64 = SteadyWallClock.nowMillis
    ) {
        self.database = database
        self.client = HQClient(transport: transport, settings: settings, dealer: database.node)
        self.settings = settings
        self.logger = logger
        self.clock = clock
    }

    /// Records how the last cycle ended (nil: it succeeded), for the next health report.
    public func recordOutcome(failureCode: String?) { lastFailure.withLock { $0 = failureCode } }

    public func run() async throws -> CycleReport {
        var report = CycleReport()
        for problem in try database.refreshCapture(nowMillis: clock()) {
            logger.warning("synced table unavailable", metadata: ["table": "\(problem.table)", "hint": "\(problem.hint)"])
        }
        try reconcileCapture(&report)
        // A DMS file restored from a backup: the state file beside it says so before
        // anything is stamped (HQ says so on the first pull, below).
        var recovering = try database.recovery() != nil
        if !recovering, let evidence = try database.restoreEvidence() {
            try beginRecovery(evidence, hqAcknowledged: nil)
            recovering = true
        }
        // A new store's PC clock may be a day off, and any PC's clock may have jumped while
        // the agent was stopped: a process pulls first (which measures the offset to HQ
        // before it applies anything) so that its first stamps are already corrected. While
        // HQ cannot be reached, changes wait in the log, unstamped.
        if !recovering, try !offsetMeasured.value || !database.hasMeasuredClockOffset() {
            try await pull(&report)
            // HQ's acknowledged sequence may have shown a restore.
            recovering = try database.recovery() != nil
        }
        if recovering {
            try await recover(&report)
            if try database.recovery() != nil {
                report.moreWaiting = true
                return report
            }
        }
        try await reportShape()
        try await stampAndPush(&report)
        try await pull(&report)
        try database.recordCounterHighWater()
        try database.recordAgentError(nil)
        return report
    }

    private func beginRecovery(_ evidence: RestoreEvidence, hqAcknowledged: UInt64?) throws {
        logger.error(
            "the DMS file is older than what this store already sent: restored from a backup or copied back; recovering HQ's newer rows",
            metadata: ["file_counter": "\(evidence.fileCounter)", "witnessed": "\(evidence.witnessed)", "witness": "\(evidence.witness)"])
        try database.beginRecovery(evidence, hqAcknowledged: hqAcknowledged, nowMillis: clock())
    }

    /// After a restore: HQ resends every row this store holds, and they are applied over the
    /// restored copy (HQ's versions are newer where this store wrote since the backup: rows
    /// deleted since stay deleted, rows created since come back, nothing old is re-sent as
    /// new). Edits made on the restored copy that HQ's rows replace become `restored-backup`
    /// conflicts; the others are stamped when the recovery ends. Resumes across cycles.
    private func recover(_ report: inout CycleReport) async throws {
        var cursor = try database.pullCursor()
        if cursor == nil { try await client.resendAll() }
        var caughtUp = false
        for _ in 0..<settings.maxExchangesPerCycle {
            let exchange = try await client.pull(after: cursor, pageRows: pullPageRows, capture: nil, now: clock)
            try measured(exchange.offsetMillis)
            let page = exchange.value
            if page.batch.rows.isEmpty && page.cursor == cursor {
                caughtUp = true
                break
            }
            let applied = try database.apply(page.batch.rows, cursor: page.cursor, wallMillis: clock(), recovering: true)
            report.pulledRows += page.batch.rows.count
            report.appliedRows += applied.applied
            report.conflicts += applied.conflicts
            cursor = page.cursor
            if page.batch.rows.count < pullPageRows {
                caughtUp = true
                break
            }
        }
        if caughtUp, let summary = try database.finishRecovery(nowMillis: clock()) {
            logger.warning("recovered from a restored DMS file", metadata: ["summary": "\(summary)"])
        }
    }

    /// Tells HQ the synced tables' columns when they changed (a DMS upgrade added one), before
    /// pushing rows that carry the new column, so HQ's SQL tables show it. An HQ that refuses
    /// the report (one older than shape reports answers 404) is asked again an hour later;
    /// it never stops the sync.
    private func reportShape() async throws {
        let body = try database.shapeReport().encoded()
        let sha = BodyChecksum.sha256Hex(body)
        guard try database.reportedShapeSHA256() != sha, shapeRefusal.mayRetry(sha) else { return }
        do {
            let answer = try await client.reportShape(body)
            for refusal in answer.refused ?? [] {
                logger.warning(
                    "HQ did not take part of this store's table shape",
                    metadata: ["table": "\(refusal.table)", "column": "\(refusal.column ?? "")", "reason": "\(refusal.reason)"])
            }
            try database.recordReportedShape(sha256: sha)
        } catch let error as AgentError where error.code == .refused {
            shapeRefusal.record(sha)
            logger.warning("HQ refused this store's table shape; asking again in an hour", metadata: ["error": "\(error.message)"])
        }
    }

    /// Finds the writes made while a table's capture was off (a DMS migration rebuilt it),
    /// for at most `reconcileBudget` a cycle, so what it queued is pushed in the same cycle.
    private func reconcileCapture(_ report: inout CycleReport) throws {
        var lastLog = ContinuousClock.now
        let reconciled = try database.reconcileCapture(budget: settings.reconcileBudget, nowMillis: clock()) { step in
            guard ContinuousClock.now - lastLog >= .seconds(5) else { return }
            lastLog = ContinuousClock.now
            logger.info("reconciling capture", metadata: ["table": "\(step.table)", "step": "\(step.step)", "done": "\(step.done)", "total": "\(step.total)"])
        }
        for table in reconciled.finished {
            logger.warning("capture repaired", metadata: ["table": "\(table.table)", "summary": "\(table.summary)"])
        }
        if reconciled.moreWaiting { report.moreWaiting = true }
    }

    /// Stamps pending changes into bounded outbox batches (each its own short transaction)
    /// and pushes the outbox oldest first, deleting each batch on HQ's acknowledgement.
    /// The next batch is stamped while HQ merges the one in flight, so with a backlog the
    /// agent's work and HQ's overlap instead of taking turns.
    private func stampAndPush(_ report: inout CycleReport) async throws {
        let limit = settings.maxExchangesPerCycle
        var stampRounds = 0
        var logEmpty = false
        func stampNextBatch() throws {
            guard !logEmpty, stampRounds < limit else { return }
            let stamped = try database.stampPendingChanges(wallMillis: clock())
            report.stampedRows += stamped
            stampRounds += 1
            logEmpty = stamped == 0
        }

        try stampNextBatch()
        var pushed = 0
        while pushed < limit, let entry = try database.outbox(limit: 1).first {
            async let exchange = client.push(entry, now: clock)
            try stampNextBatch()
            let answer = try await exchange
            try database.acknowledge(entry)
            try database.recordHQNotices(answer.value, batch: "\(entry.firstSequence)-\(entry.lastSequence)")
            for notice in answer.value {
                logger.warning(
                    notice.kind == .refused ? "HQ refused a pushed row" : "HQ kept its value in a pushed row",
                    metadata: ["batch": "\(entry.firstSequence)-\(entry.lastSequence)", "reason": "\(notice.reason)"])
            }
            try measured(answer.offsetMillis)
            pushed += 1
            report.pushedBatches += 1
            report.pushedRows += entry.rowCount
            logger.debug("batch acknowledged", metadata: ["batch": "\(entry.firstSequence)-\(entry.lastSequence)", "rows": "\(entry.rowCount)"])
        }
        if pushed > 0 {
            try database.recordAgentState(hqURL: settings.hqURL, pushedAt: Date())
        }
        if pushed == limit || (stampRounds == limit && !logEmpty) { report.moreWaiting = true }
    }

    private func pull(_ report: inout CycleReport) async throws {
        // Rows the DMS refused last time go first: its rule may have been fixed meanwhile.
        let retried = try database.retryHeldRows(wallMillis: clock())
        report.appliedRows += retried.applied
        report.heldRows = retried.held
        var cursor = try database.pullCursor()
        var pendingRequest: StoreRequest?
        let capture = try? database.captureReport()
        let health = try? database.healthReport(agentVersion: DealersyncRelease.version, lastError: lastFailure.withLock { $0 })
        for _ in 0..<settings.maxExchangesPerCycle {
            // A pull past an erasure tells HQ this store has it: the file is scrubbed first.
            try database.scrubErasedRows()
            let exchange = try await client.pull(after: cursor, pageRows: pullPageRows, capture: capture, health: health, now: clock)
            try measured(exchange.offsetMillis)
            let page = exchange.value
            // HQ acknowledged higher sequences than this file ever wrote: it was restored.
            // Nothing of the page is applied: the recovery pulls everything again.
            if let evidence = try database.restoreEvidence(hqAcknowledged: page.acknowledgedSequence) {
                try beginRecovery(evidence, hqAcknowledged: page.acknowledgedSequence)
                return
            }
            // A newer schema for this store: adopted before the page is applied, so rows of
            // a table it adds are not skipped. When it adds a pulled table, the cursor starts
            // over (that table's older rows at HQ come too) and this page is pulled again.
            if let assigned = page.assignedSchema, try await adoptSchema(assigned) {
                cursor = nil
                continue
            }
            if let request = page.request { pendingRequest = request }
            applyGroupSettings(page.groupSettings)
            if let remaining = page.remaining { catchUp.show(remaining: remaining, logger: logger) }
            if page.batch.rows.isEmpty && page.cursor == cursor { break }
            let applied = try database.apply(page.batch.rows, cursor: page.cursor, wallMillis: clock(), erased: page.erasedRows)
            report.pulledRows += page.batch.rows.count
            report.appliedRows += applied.applied
            report.conflicts += applied.conflicts
            report.heldRows += applied.held
            if applied.erased > 0 { logger.notice("rows erased at HQ's request deleted here", metadata: ["rows": "\(applied.erased)"]) }
            cursor = page.cursor
            if page.batch.rows.count < pullPageRows { break }
            if report.pulledRows >= settings.maxExchangesPerCycle * settings.pullPageRows { report.moreWaiting = true }
        }
        try database.recordAgentState(hqURL: settings.hqURL, pulledAt: Date())
        if let pendingRequest {
            try await run(pendingRequest)
            report.moreWaiting = true
        }
    }

    private func measured(_ offset: Int64?) throws {
        guard let offset else { return }
        try database.recordClockOffset(millis: offset)
        offsetMeasured.set()
    }
}
