import Foundation
import SyncTestSupport
import Testing

/// fsync fails with EIO (an LD_PRELOAD shim, switched on by a flag file) in the HQ process
/// or in the agent process: a clear error, nothing acknowledged that was not made durable,
/// and the sync resumes by itself once the disk behaves again.
@Suite("Reliability: I/O errors on fsync", .serialized)
struct IOErrorTests {
    static let compiler = ["/usr/bin/cc", "/usr/bin/gcc"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static let shimSource = """
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <errno.h>
        #include <stdlib.h>
        #include <unistd.h>
        /* fsync and fdatasync fail with EIO while the file FAIL_FSYNC_FLAG names exists. */
        static int failing(void) {
            const char *flag = getenv("FAIL_FSYNC_FLAG");
            return flag && access(flag, F_OK) == 0;
        }
        int fsync(int fd) {
            static int (*real)(int);
            if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
            if (failing()) { errno = EIO; return -1; }
            return real(fd);
        }
        int fdatasync(int fd) {
            static int (*real)(int);
            if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
            if (failing()) { errno = EIO; return -1; }
            return real(fd);
        }
        """

    /// Builds the shim in `directory`; returns the environment that loads it and the flag path.
    static func shim(in directory: TemporaryDirectory) async throws -> (environment: [String: String], flag: String) {
        let source = directory.file("failfsync.c")
        let library = directory.file("failfsync.so")
        try shimSource.write(toFile: source, atomically: true, encoding: .utf8)
        let built = try await ProcessRunner.run(URL(fileURLWithPath: compiler!), ["-shared", "-fPIC", "-o", library, source, "-ldl"])
        guard built.status == 0 else { throw FleetError("cannot build the fsync shim: \(built.stderr)") }
        let flag = directory.file("fail-fsync")
        return (["LD_PRELOAD": library, "FAIL_FSYNC_FLAG": flag], flag)
    }

    @Test("fsync fails at HQ: 503 naming an I/O error, nothing acknowledged unstored, resumes when fsync works again",
        .enabled(if: compiler != nil && ProcessRunner.dealersyncBinary != nil, "needs a C compiler (cc) for the fsync shim"))
    func hqFsyncFails() async throws {
        let shimDirectory = TemporaryDirectory("fsync-shim")
        let (environment, flag) = try await Self.shim(in: shimDirectory)
        let fleet = try await ProcessFleet(dealers: ["DLR-A"], seed: 11, hqEnvironment: environment, batchRows: 50)
        defer { fleet.stopAll() }
        try await fleet.startHQ()
        try fleet.startAgents()
        let dealer = fleet.dealers["DLR-A"]!
        try dealer.writer.burst(100, others: [])
        #expect(try await waitUntil(seconds: 60) { try await fleet.converged() })

        #expect(FileManager.default.createFile(atPath: flag, contents: nil))
        try dealer.writer.burst(100, others: [])
        let reported = try await waitUntil(seconds: 60) { try dealer.database().status().lastError?.message.contains("I/O error") == true }
        let error = try dealer.database().status().lastError
        #expect(reported, "the agent reports HQ's I/O error; got \(error?.message ?? "none")")
        #expect(fleet.hq.log().contains("HQ store: I/O error"), "HQ's log says why")
        #expect(fleet.hq.isRunning, "HQ keeps running")
        let atHQ = try await fleet.hqLiveRows("customers")
        let acknowledged = try fleet.hqCount("SELECT coalesce(sum(row_count), 0) FROM batches")
        let status = try dealer.database().status()
        #expect(status.pendingChanges + status.outboxRows > 0, "the changes HQ could not make durable wait at the store")

        try FileManager.default.removeItem(atPath: flag)
        let fixed = Date()
        let converged = try await waitUntil(seconds: 120, every: 250) { try await fleet.converged() }
        #expect(converged, "resumed; agent log:\n\(dealer.agent.log().suffix(2000))")
        let problems = try await fleet.exactlyOnceProblems()
        #expect(problems.isEmpty, "\(problems)")
        print("""
            fsync-eio HQ: agent error "\(error?.message.prefix(110) ?? "-")"; while failing \(atHQ) customers at HQ, \
            \(acknowledged) rows acknowledged in total, \(status.pendingChanges + status.outboxRows) waiting at the store; \
            converged \(elapsed(since: fixed)) after fsync worked again, problems \(problems.count)
            """)
    }

    @Test("fsync fails at the store: the agent says so, keeps every captured change, resumes when fsync works again",
        .enabled(if: compiler != nil && ProcessRunner.dealersyncBinary != nil, "needs a C compiler (cc) for the fsync shim"))
    func agentFsyncFails() async throws {
        let shimDirectory = TemporaryDirectory("fsync-shim")
        let (environment, flag) = try await Self.shim(in: shimDirectory)
        let fleet = try await ProcessFleet(dealers: ["DLR-A"], seed: 12, agentEnvironment: ["DLR-A": environment], batchRows: 50)
        defer { fleet.stopAll() }
        try await fleet.startHQ()
        try fleet.startAgents()
        let dealer = fleet.dealers["DLR-A"]!
        try dealer.writer.burst(100, others: [])
        #expect(try await waitUntil(seconds: 60) { try await fleet.converged() })
        let synced = try fleet.hqCount("SELECT coalesce(sum(row_count), 0) FROM batches")

        #expect(FileManager.default.createFile(atPath: flag, contents: nil))
        try dealer.writer.burst(100, others: [])
        let reported = try await waitUntil(seconds: 60) { dealer.agent.log().contains("the disk holding the DMS database \(dealer.dmsPath) had an I/O error") }
        #expect(reported, "the agent's log names the I/O error:\n\(dealer.agent.log().suffix(2000))")
        #expect(dealer.agent.isRunning, "the agent keeps running and retrying")
        #expect(try fleet.hqCount("SELECT coalesce(sum(row_count), 0) FROM batches") == synced, "nothing stamped under a failing fsync was pushed")
        let waiting = try dealer.database().status().pendingChanges

        try FileManager.default.removeItem(atPath: flag)
        let fixed = Date()
        let converged = try await waitUntil(seconds: 120, every: 250) { try await fleet.converged() }
        #expect(converged, "resumed; agent log:\n\(dealer.agent.log().suffix(2000))")
        let problems = try await fleet.exactlyOnceProblems()
        #expect(problems.isEmpty, "\(problems)")
        print("fsync-eio store: \(waiting) changes waited while fsync failed; converged \(elapsed(since: fixed)) after it worked again, problems \(problems.count)")
    }
}
