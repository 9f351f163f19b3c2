/// An error a command prints as `Error: <message>` then `Try: <hint>`, and exits non-zero.
/// Errors from the libraries (capture, core, config) are turned into this by `userFacing`.
struct CommandError: Error, CustomStringConvertible {
    var message: String
    var hint: String

    var description: String { "\(message)\nTry: \(hint)" }
}

import SyncCapture
import SyncCore

extension Error {
    /// The error as the user should read it: what is wrong, then what to try.
    var userFacing: CommandError {
        switch self {
        case let error as CommandError: error
        case let error as CaptureError: CommandError(message: error.message, hint: error.hint)
        case let error as SyncCoreError: CommandError(message: error.message, hint: error.hint)
        default: CommandError(message: "\(self)", hint: "see `dealersync --help`, or run again with the same arguments to retry")
        }
    }
}

/// Runs a command body and turns any error into a `CommandError` for ArgumentParser to print.
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw error.userFacing
    }
}
