import ArgumentParser
import Foundation
import HQServer
import SyncAgent
import SyncCapture
import SyncCore

/// An error a command prints as `Error: <message>` then `Try: <hint>`, and exits non-zero.
struct CommandError: Error, CustomStringConvertible {
    var message: String
    var hint: String

    init(message: String, hint: String) {
        self.message = message
        self.hint = hint
    }

    init(_ message: String, hint: String) { self.init(message: message, hint: hint) }

    var description: String { "\(message)\nTry: \(hint)" }
}

extension Error {
    /// The error as the user should read it: what is wrong, then what to try. Every library
    /// error type carries both; anything else is named as is.
    var userFacing: CommandError {
        switch self {
        case let error as CommandError: error
        case let error as CaptureError: CommandError(message: error.message, hint: error.hint)
        case let error as SyncCoreError: CommandError(message: error.message, hint: error.hint)
        case let error as AgentError: CommandError(message: error.message, hint: error.hint)
        case let error as HQConfigError: CommandError(message: error.message, hint: error.hint)
        case let error as StoreError: CommandError(message: error.message, hint: error.hint)
        case let error as HQError: CommandError(message: error.message, hint: error.hint)
        default: CommandError(message: "\(self)", hint: "run with the same arguments again; if it repeats, report it with this message")
        }
    }
}

/// Runs a command body; any error is printed as `Error: …` and `Try: …` and the process
/// exits with status 1. `ExitCode`s pass through (commands with their own exit statuses).
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        let failure = error.userFacing
        FileHandle.standardError.write(Data("Error: \(failure.message)\nTry: \(failure.hint)\n".utf8))
        Foundation.exit(1)
    }
}
