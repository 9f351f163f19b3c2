import Foundation
import GRDB
import SyncCapture
import SyncCore
import SyncTestSupport
import Testing

/// A store PC whose clock jumps a day ahead while the agent runs and HQ is unreachable
/// (after the agent measured its offset to HQ): the agent's stamps stay on real time.
/// Read directly, the jumped clock gave every write made offline a time a day ahead, which
/// would win every later conflict for that row.
@Suite("Reliability: store clock jumps while offline", .serialized)
struct ClockJumpTests {
    static let libfaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

    @Test(
        "a day's jump while offline: writes made after it are stamped with real time",
        .enabled(if: FileManager.default.fileExists(atPath: libfaketime) && ProcessRunner.dealersyncBinary != nil, "needs libfaketime (scripts/install-system-deps.sh)"))
    func jumpWhileOffline() async throws {
        let directory = TemporaryDirectory("clock-jump")
        let timeFile = directory.file("faketime")
        try "+0\n".write(toFile: timeFile, atomically: true, encoding: .utf8)
        // libfaketime rereads the file on every call, so the clock can jump mid-run; only
        // the wall clock moves (timers run as on a real PC). Through `sh -c exec`: the
        // library set by hand on a Swift binary's own Process loses its arguments.
        let fleet = try await ProcessFleet(
            dealers: ["DLR-A"], seed: 7, agentWrapper: ["DLR-A": ["/bin/sh", "-c", "exec \"$0\" \"$@\""]],
            agentEnvironment: ["DLR-A": [
                "LD_PRELOAD": Self.libfaketime, "FAKETIME_TIMESTAMP_FILE": timeFile, "FAKETIME_NO_CACHE": "1",
                "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            ]])
        defer { fleet.stopAll() }
        try await fleet.startHQ()
        try fleet.startAgents()
        let dealer = fleet.dealers["DLR-A"]!
        try await dealer.writer.queue.write { db in try db.execute(sql: "INSERT INTO customers (id, name) VALUES ('before-jump', '王五')") }
        let synced = try await waitUntil(seconds: 60, every: 100) { try await fleet.hqLiveRows("customers") >= 1 }
        try #require(synced, "the agent never reached HQ:\n\(dealer.agent.log().suffix(2000))")

        fleet.hq.stop()
        try "+1d\n".write(toFile: timeFile, atomically: true, encoding: .utf8)
        try await dealer.writer.queue.write { db in try db.execute(sql: "INSERT INTO customers (id, name) VALUES ('after-jump', '赵六')") }
        let database = try dealer.database()
        let stamped = try await waitUntil(seconds: 60, every: 100) { try !TestDMS.outboxBatches(database).isEmpty }
        try #require(stamped, "the agent did not stamp the offline write:\n\(dealer.agent.log().suffix(2000))")

        // The jump reached the agent: each failed cycle records the time of its error from the
        // system clock, and that time is now a day ahead (without this the test would prove
        // nothing). Waited for, not read once: a repeated failure may come a retry later.
        let jumped = try await waitUntil(seconds: 60, every: 100) {
            let errorAt = try await dealer.writer.queue.read { db in
                try Int64.fetchOne(db, sql: "SELECT value FROM _dealersync_meta WHERE key = 'last_error_at'")
            }
            return (errorAt ?? 0) > Int64(Date().timeIntervalSince1970 * 1000) + 43_200_000
        }
        #expect(jumped, "the agent's clock did not jump; the test would prove nothing")
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let stamps = try TestDMS.outboxBatches(database).flatMap(\.rows).map(\.latestHLC.physicalMillis)
        #expect(!stamps.isEmpty)
        for stamp in stamps {
            #expect(stamp <= now + 60_000, "stamped \(Double(stamp - min(stamp, now)) / 3_600_000) h in the future")
        }
        print("clock jump +1d offline: \(stamps.count) rows stamped, latest \(Int64(stamps.max() ?? 0) - Int64(now)) ms from real time")
    }
}
