import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion and collects what it printed: how tests drive the built
/// `dealersync` binary, the sqlite3 shell or Python, as a user would.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public enum ProcessRunner {
    /// The `dealersync` binary `swift build --build-tests` made next to the test bundle,
    /// else in this checkout's `.build/debug` (nil if not built).
    public static var dealersyncBinary: URL? {
        var bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = bundle.appendingPathComponent("dealersync")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            bundle.deleteLastPathComponent()
        }
        var directory = URL(fileURLWithPath: #filePath)
        while directory.path != "/" {
            directory.deleteLastPathComponent()
            let candidate = directory.appendingPathComponent(".build/debug/dealersync")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// Runs the program on a thread of its own and suspends until it exits, so a long child
    /// (the demo) never holds one of the few threads Swift concurrency shares between tests.
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try runBlocking(executable, arguments, environment: environment) })
            }
        }
    }

    /// Runs a command that finishes at once (`mount`, `ip`, `tc`) on the calling thread, for
    /// set-up code that cannot suspend. Anything that may take a while goes through `run`.
    ///
    /// `posix_spawn`, not Foundation's `Process`: `Process.run` crashed (a copy past the end of
    /// a buffer) when the test process had about 1,300 descriptors open, which parallel tests
    /// each holding an HQ's SQLite files reach.
    public static func runBlocking(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        guard pipe(&out) == 0, pipe(&err) == 0 else { throw SpawnError("pipe failed: errno \(errno)") }
        // Our ends stay out of every other child this process starts meanwhile.
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO)
        var attributes = defaultSignalAttributes()
        defer { posix_spawnattr_destroy(&attributes) }
        let argv = [executable.path] + arguments
        let envp = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let spawned = withCStrings(argv) { cArgv in
            withCStrings(envp) { cEnvp in posix_spawn(&pid, executable.path, &actions, &attributes, cArgv, cEnvp) }
        }
        close(out[1])
        close(err[1])
        let stdoutHandle = FileHandle(fileDescriptor: out[0], closeOnDealloc: true)
        let stderrHandle = FileHandle(fileDescriptor: err[0], closeOnDealloc: true)
        guard spawned == 0 else { throw SpawnError("cannot start \(executable.path): errno \(spawned)") }
        // Drain stderr on another thread while reading stdout here: a child that fills one
        // pipe must never wait for us to read the other.
        let stderrData = LockedData()
        let drained = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            stderrData.set(stderrHandle.readDataToEndOfFile())
            drained.signal()
        }
        let stdout = stdoutHandle.readDataToEndOfFile()
        drained.wait()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return ProcessResult(
            status: exitCode(status), stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderrData.get(), as: UTF8.self))
    }

    /// A `waitpid` status as an exit code; a signal as 128 + its number, as a shell shows it.
    static func exitCode(_ status: Int32) -> Int32 {
        status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Spawn attributes for a child that starts with no blocked signals and default handlers
    /// (the test runner ignores SIGPIPE; a child must not inherit that). Destroy after use.
    static func defaultSignalAttributes() -> posix_spawnattr_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        return attributes
    }

    struct SpawnError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// `strings` as a NULL-terminated array of C strings, for the duration of `body`.
    static func withCStrings<T>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> T) -> T {
        let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }
}

/// Data handed from one thread to another.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}
