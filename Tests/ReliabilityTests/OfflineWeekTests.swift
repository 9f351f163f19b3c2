import Foundation
import GRDB
import SyncTestSupport
import Testing

/// A store cut off from HQ for a week keeps working; its changes queue in the DMS file.
/// When HQ is back, the agent catches up: every change arrives once, and the time is printed.
@Suite("Reliability: a week offline", .serialized)
struct OfflineWeekTests {
    @Test("50k changes queued while HQ is down, reconnect, caught up", .enabled(if: ProcessRunner.dealersyncBinary != nil))
    func weekOffline() async throws {
        let changes = Int(ProcessInfo.processInfo.environment["DEALERSYNC_OFFLINE_CHANGES"] ?? "") ?? 50_000
        let fleet = try await ProcessFleet(dealers: ["DLR-A"], seed: ChaosScale.seed(), batchRows: 5_000, pollMillis: 1_000)
        defer { fleet.stopAll() }
        let dealer = fleet.dealers["DLR-A"]!
        // The agent runs while HQ is unreachable: it stamps and queues, and keeps retrying.
        try dealer.agent.start()
        let queueStart = Date()
        let perTransaction = 500
        var written = 0
        while written < changes {
            let count = min(perTransaction, changes - written)
            let base = written
            try await dealer.writer.queue.write { db in
                for index in base..<(base + count) {
                    if index % 2 == 0 {
                        try db.execute(
                            sql: "INSERT INTO customers (id, name, home_dealer, remarks) VALUES (?, ?, 'DLR-A', 'offline')",
                            arguments: ["W-\(index)", "Customer \(index)"])
                    } else {
                        try db.execute(
                            sql: "INSERT INTO service_lines (order_id, item, quantity, price) VALUES ('SO-DLR-A', ?, 1, 9.5)",
                            arguments: ["part \(index)"])
                    }
                }
            }
            written += count
        }
        let queued = Date().timeIntervalSince(queueStart)
        let beforeReconnect = try dealer.database().status()
        #expect(beforeReconnect.pendingChanges + beforeReconnect.outboxRows >= changes, "the changes wait at the store")
        #expect(beforeReconnect.lastError != nil, "the store shows why nothing leaves")
        #expect(!dealer.agent.log().isEmpty)

        // Reconnect: HQ comes back; the agent is restarted (as after a week its retry pause is
        // at its 5-minute ceiling; a running agent would start within that).
        dealer.agent.stop()
        let reconnect = Date()
        try await fleet.startHQ()
        try dealer.agent.start()
        let caughtUp = try await waitUntil(seconds: 600, every: 200) {
            let status = try dealer.database().status()
            return status.pendingChanges == 0 && status.outboxBatches == 0
        }
        let catchUp = Date().timeIntervalSince(reconnect)
        #expect(caughtUp, "not caught up within 600 s; agent log:\n\(dealer.agent.log().suffix(3000))")
        let digest = try await fleet.digests("DLR-A")
        #expect(digest.store == digest.hq)
        #expect(digest.hq.rows == changes + 1, "every queued row once at HQ (plus the service order)")
        #expect(try fleet.overlappingBatches("DLR-A") == 0)
        let batches = try fleet.hqCount("SELECT count(*) FROM batches")
        print("""
            offline-week: \(changes) changes committed in \(String(format: "%.1f", queued))s while HQ was down \
            (\(beforeReconnect.pendingChanges) pending + \(beforeReconnect.outboxRows) in \(beforeReconnect.outboxBatches) queued batches), \
            caught up in \(String(format: "%.1f", catchUp))s after reconnect (\(Int(Double(changes) / max(catchUp, 0.001))) rows/s, \
            \(batches) batches), \(digest.hq.rows) rows at HQ, digest store = HQ \(digest.store == digest.hq)
            """)
    }
}
