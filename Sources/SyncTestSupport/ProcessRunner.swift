import Foundation

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
    public static func runBlocking(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain stderr on another thread while reading stdout here: a child that fills one
        // pipe must never wait for us to read the other.
        let stderrData = LockedData()
        let drained = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            stderrData.set(err.fileHandleForReading.readDataToEndOfFile())
            drained.signal()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        return ProcessResult(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderrData.get(), as: UTF8.self))
    }
}

/// Data handed from one thread to another.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}
