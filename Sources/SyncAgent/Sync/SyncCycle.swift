import Foundation
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

    public init(
        database: DealerDatabase, transport: any DeltaTransport, settings: AgentSettings, logger: Logger,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.database = database
        self.client = HQClient(transport: transport, settings: settings, dealer: database.node)
        self.settings = settings
        self.logger = logger
        self.clock = clock
    }

    public func run() async throws -> CycleReport {
        var report = CycleReport()
        for problem in try database.refreshCapture() {
            logger.warning("synced table unavailable", metadata: ["table": "\(problem.table)", "hint": "\(problem.hint)"])
        }
        // A new store's PC clock may be a day off: pull first (which measures the offset to
        // HQ before it applies anything) so that the first stamps are already corrected.
        if try !database.hasMeasuredClockOffset() {
            try await pull(&report)
        }
        // Stamp everything pending into bounded batches (each its own short transaction).
        var stampRounds = 0
        while stampRounds < settings.maxExchangesPerCycle {
            let stamped = try database.stampPendingChanges(wallMillis: clock())
            if stamped == 0 { break }
            report.stampedRows += stamped
            stampRounds += 1
        }
        try await push(&report)
        try await pull(&report)
        try database.recordAgentError(nil)
        return report
    }

    private func push(_ report: inout CycleReport) async throws {
        let entries = try database.outbox(limit: settings.maxExchangesPerCycle)
        for entry in entries {
            let exchange = try await client.push(entry, now: clock)
            try database.acknowledge(entry)
            try measured(exchange.offsetMillis)
            report.pushedBatches += 1
            report.pushedRows += entry.rowCount
            logger.debug("batch acknowledged", metadata: ["batch": "\(entry.firstSequence)-\(entry.lastSequence)", "rows": "\(entry.rowCount)"])
        }
        if !entries.isEmpty {
            try database.recordAgentState(hqURL: settings.hqURL, pushedAt: Date())
        }
        if entries.count == settings.maxExchangesPerCycle { report.moreWaiting = true }
    }

    private func pull(_ report: inout CycleReport) async throws {
        // Rows the DMS refused last time go first: its rule may have been fixed meanwhile.
        let retried = try database.retryHeldRows(wallMillis: clock())
        report.appliedRows += retried.applied
        report.heldRows = retried.held
        var cursor = try database.pullCursor()
        for _ in 0..<settings.maxExchangesPerCycle {
            let exchange = try await client.pull(after: cursor, now: clock)
            try measured(exchange.offsetMillis)
            let page = exchange.value
            if page.batch.rows.isEmpty && page.cursor == cursor { break }
            let applied = try database.apply(page.batch.rows, cursor: page.cursor, wallMillis: clock())
            report.pulledRows += page.batch.rows.count
            report.appliedRows += applied.applied
            report.conflicts += applied.conflicts
            report.heldRows += applied.held
            cursor = page.cursor
            if page.batch.rows.count < settings.pullPageRows { break }
            if report.pulledRows >= settings.maxExchangesPerCycle * settings.pullPageRows { report.moreWaiting = true }
        }
        try database.recordAgentState(hqURL: settings.hqURL, pulledAt: Date())
    }

    private func measured(_ offset: Int64?) throws {
        guard let offset else { return }
        try database.recordClockOffset(millis: offset)
    }
}
