import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A long-running child process (`dealersync agent run`, `dealersync hq serve`) whose output
/// goes to a log file, so a test can kill -9 it at any moment and start it again.
///
/// Started with `posix_spawn`, not Foundation's `Process`, whose `run` crashed while parallel
/// tests held about 1,300 descriptors (see `ProcessRunner.runBlocking`).
public final class ChildProcess: @unchecked Sendable {
    public let executable: URL
    public let arguments: [String]
    public let environment: [String: String]
    public let logPath: String
    private let lock = NSLock()
    private var child: pid_t?
    private var exitStatus: Int32?
    private(set) var starts = 0

    public init(executable: URL, arguments: [String], environment: [String: String] = [:], logPath: String) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.logPath = logPath
        FileManager.default.createFile(atPath: logPath, contents: nil)
    }

    public func start() throws {
        try lock.withLock {
            precondition(child == nil, "already running")
            let log = open(logPath, O_WRONLY | O_APPEND | O_CLOEXEC)
            guard log >= 0 else { throw ProcessRunner.SpawnError("cannot open \(logPath): errno \(errno)") }
            defer { close(log) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, log, STDOUT_FILENO)
            posix_spawn_file_actions_adddup2(&actions, log, STDERR_FILENO)
            var attributes = ProcessRunner.defaultSignalAttributes()
            defer { posix_spawnattr_destroy(&attributes) }
            let argv = [executable.path] + arguments
            let envp = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
            var pid: pid_t = 0
            let spawned = ProcessRunner.withCStrings(argv) { cArgv in
                ProcessRunner.withCStrings(envp) { cEnvp in posix_spawn(&pid, executable.path, &actions, &attributes, cArgv, cEnvp) }
            }
            guard spawned == 0 else { throw ProcessRunner.SpawnError("cannot start \(executable.path): errno \(spawned)") }
            child = pid
            exitStatus = nil
            starts += 1
        }
    }

    /// Whether the child still runs (reaping it when it has exited).
    public var isRunning: Bool {
        lock.withLock {
            guard let pid = child else { return false }
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            guard reaped == pid else { return reaped == 0 }
            exitStatus = ProcessRunner.exitCode(status)
            return false
        }
    }

    public var pid: Int32? { lock.withLock { child } }

    /// SIGKILL, as a power cut or the OOM killer would: no cleanup runs in the child.
    public func kill9() { stop(signal: SIGKILL) }

    /// SIGTERM and wait: the graceful stop systemd does.
    public func stop() { stop(signal: SIGTERM) }

    private func stop(signal: Int32) {
        guard let pid = lock.withLock({ child }) else { return }
        kill(pid, signal)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        lock.withLock {
            child = nil
            exitStatus = ProcessRunner.exitCode(status)
        }
    }

    /// SIGTERM, then the exit status once the process has exited, or nil (and SIGKILL) when
    /// it is still running after `seconds`: how a test checks a graceful stop's time limit.
    public func stop(within seconds: Double) async -> Int32? {
        guard let pid = lock.withLock({ child }) else { return nil }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard !isRunning else {
            kill9()
            return nil
        }
        return lock.withLock {
            child = nil
            return exitStatus
        }
    }

    /// The log so far (for failure messages; never contains tokens or customer values).
    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit { kill9() }
}
