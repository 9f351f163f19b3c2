import Foundation
import GRDB
import SyncTestSupport
import Testing

/// The HQ store or a store's DMS file on a small tmpfs that fills up: a clear error, nothing
/// acknowledged that was not written, and the sync resumes by itself once space is freed.
/// Needs root (mount); skipped with a message otherwise.
@Suite("Reliability: disk full", .serialized)
struct DiskFullTests {
    static let canMount: Bool = {
        guard getuid() == 0 else { return false }
        let probe = TemporaryDirectory("tmpfs-probe")
        guard (try? Tmpfs.mount(probe.path, megabytes: 1)) != nil else { return false }
        Tmpfs.unmount(probe.path)
        return true
    }()

    @Test("HQ's store disk fills during ingest: 503 with a clear error, nothing acknowledged unstored, resumes when freed",
        .enabled(if: canMount && ProcessRunner.dealersyncBinary != nil, "needs root to mount a tmpfs (run the tests as root)"))
    func hqDiskFull() async throws {
        let mountPoint = TemporaryDirectory("hq-tmpfs")
        try Tmpfs.mount(mountPoint.path, megabytes: 1)
        defer { Tmpfs.unmount(mountPoint.path) }
        let fleet = try await ProcessFleet(dealers: ["DLR-A"], seed: 7, hqStorePath: mountPoint.file("hq.sqlite"), batchRows: 100)
        defer { fleet.stopAll() }
        try await fleet.startHQ()
        try fleet.startAgents()
        let dealer = fleet.dealers["DLR-A"]!
        let started = Date()
        // Bulky rows until HQ's disk is full (the store holds each row and its feed entry).
        let full = try await waitUntil(seconds: 120, every: 200) {
            if dealer.writer.customersInserted < 4_000 { try dealer.writer.bulkyCustomers(100, remarkBytes: 1_000) }
            return try dealer.database().status().lastError?.message.contains("disk") == true
        }
        let committed = dealer.writer.customersInserted
        #expect(full, "the agent reports HQ's full disk; agent log:\n\(dealer.agent.log().suffix(2000))")
        let error = try dealer.database().status().lastError
        let hqLog = fleet.hq.log()
        #expect(hqLog.contains("the disk is full"), "HQ's log says why")
        #expect(error?.message.contains("503") == true && error?.message.contains("the disk holding the HQ store is full") == true)
        #expect(fleet.hq.isRunning, "HQ keeps running")

        // Nothing acknowledged that HQ did not store: every committed row is at HQ or still queued.
        let status = try dealer.database().status()
        let atHQ = try await fleet.hqLiveRows("customers")
        let acknowledgedRows = try fleet.hqCount("SELECT coalesce(sum(row_count), 0) FROM batches")
        // Every pushed row is a new one here (customers, and the service order if its batch got in).
        #expect(try fleet.hqCount("SELECT count(*) FROM rows") == acknowledgedRows, "every acknowledged row is stored")
        #expect(atHQ + status.pendingChanges + status.outboxRows + 1 >= committed + 1, "nothing committed is lost")

        // Space comes back: the agent resumes by itself.
        try Tmpfs.resize(mountPoint.path, megabytes: 64)
        let freed = Date()
        let converged = try await waitUntil(seconds: 180, every: 250) { try await fleet.converged() }
        #expect(converged, "resumed after space was freed; agent log:\n\(dealer.agent.log().suffix(2000))")
        let problems = try await fleet.exactlyOnceProblems()
        #expect(problems.isEmpty, "\(problems)")
        print("""
            disk-full HQ: 1 MiB tmpfs full after \(atHQ) of \(committed) rows stored (\(elapsed(since: started))); \
            agent error: "\(error?.message.prefix(120) ?? "-")"; resumed and converged \(elapsed(since: freed)) after resizing, problems \(problems.count)
            """)
    }

    @Test("the store's disk is full: the agent says so, acknowledges nothing it could not record, resumes when freed",
        .enabled(if: canMount && ProcessRunner.dealersyncBinary != nil, "needs root to mount a tmpfs (run the tests as root)"))
    func storeDiskFull() async throws {
        let mountPoint = TemporaryDirectory("dms-tmpfs")
        try Tmpfs.mount(mountPoint.path, megabytes: 2)
        defer { Tmpfs.unmount(mountPoint.path) }
        let fleet = try await ProcessFleet(dealers: ["DLR-A"], seed: 8, dmsPaths: ["DLR-A": mountPoint.file("dms.sqlite")], batchRows: 100)
        defer { fleet.stopAll() }
        try await fleet.startHQ()
        let dealer = fleet.dealers["DLR-A"]!
        try dealer.writer.burst(200, others: [])
        try dealer.agent.start()
        #expect(try await waitUntil(seconds: 60) { try await fleet.converged() })
        let synced = try await fleet.hqLiveRows("customers")

        // The DMS commits more while the agent is stopped, then the disk fills up.
        dealer.agent.stop()
        try dealer.writer.burst(300, others: [])
        let filler = mountPoint.file("filler")
        let filled = Tmpfs.fill(filler)
        let pendingBefore = try dealer.database().status().pendingChanges
        try dealer.agent.start()
        let reported = try await waitUntil(seconds: 60) { dealer.agent.log().contains("the disk holding the DMS database \(dealer.dmsPath) is full") }
        #expect(reported, "the agent's log says the disk is full:\n\(dealer.agent.log().suffix(2000))")
        #expect(dealer.agent.isRunning, "the agent keeps running and retrying")
        #expect(try await fleet.hqLiveRows("customers") == synced, "nothing new acknowledged")
        #expect(try dealer.database().status().pendingChanges == pendingBefore, "the captured changes are all still there")

        try FileManager.default.removeItem(atPath: filler)
        let freed = Date()
        let converged = try await waitUntil(seconds: 180, every: 250) { try await fleet.converged() }
        #expect(converged, "resumed after space was freed; agent log:\n\(dealer.agent.log().suffix(2000))")
        let problems = try await fleet.exactlyOnceProblems()
        #expect(problems.isEmpty, "\(problems)")
        print("disk-full store: 2 MiB tmpfs, \(filled / 1024) KiB filler, \(pendingBefore) changes waited; resumed and converged \(elapsed(since: freed)) after freeing, problems \(problems.count)")
    }
}

/// Small tmpfs mounts for the disk-full scenarios.
enum Tmpfs {
    static func mount(_ path: String, megabytes: Int) throws {
        let result = try ProcessRunner.runBlocking(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path])
        guard result.status == 0 else { throw FleetError("mount tmpfs at \(path): \(result.stderr)") }
    }

    static func resize(_ path: String, megabytes: Int) throws {
        let result = try ProcessRunner.runBlocking(URL(fileURLWithPath: "/bin/mount"), ["-o", "remount,size=\(megabytes)m", path])
        guard result.status == 0 else { throw FleetError("remount tmpfs at \(path): \(result.stderr)") }
    }

    static func unmount(_ path: String) {
        _ = try? ProcessRunner.runBlocking(URL(fileURLWithPath: "/bin/umount"), ["-l", path])
    }

    /// Writes zeros to `path` until the file system is full; returns the bytes written.
    static func fill(_ path: String) -> Int {
        FileManager.default.createFile(atPath: path, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: path) else { return 0 }
        defer { try? handle.close() }
        let chunk = Data(count: 4096)
        var written = 0
        while (try? handle.write(contentsOf: chunk)) != nil { written += chunk.count }
        return written
    }
}
