import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A long-running child process (`dealersync agent run`, `dealersync hq serve`) whose output
/// goes to a log file, so a test can kill -9 it at any moment and start it again.
public final class ChildProcess: @unchecked Sendable {
    public let executable: URL
    public let arguments: [String]
    public let environment: [String: String]
    public let logPath: String
    private(set) var process: Process?
    private(set) var starts = 0

    public init(executable: URL, arguments: [String], environment: [String: String] = [:], logPath: String) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.logPath = logPath
        FileManager.default.createFile(atPath: logPath, contents: nil)
    }

    public func start() throws {
        precondition(process == nil, "already running")
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try log.close()
        self.process = process
        starts += 1
    }

    public var isRunning: Bool { process?.isRunning ?? false }
    public var pid: Int32? { process?.processIdentifier }

    /// SIGKILL, as a power cut or the OOM killer would: no cleanup runs in the child.
    public func kill9() {
        guard let process else { return }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        self.process = nil
    }

    /// SIGTERM and wait: the graceful stop systemd does.
    public func stop() {
        guard let process else { return }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        self.process = nil
    }

    /// SIGTERM, then the exit status once the process has exited, or nil (and SIGKILL) when
    /// it is still running after `seconds`: how a test checks a graceful stop's time limit.
    public func stop(within seconds: Double) async -> Int32? {
        guard let process else { return nil }
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard !process.isRunning else {
            kill9()
            return nil
        }
        self.process = nil
        return process.terminationStatus
    }

    /// The log so far (for failure messages; never contains tokens or customer values).
    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit { kill9() }
}
