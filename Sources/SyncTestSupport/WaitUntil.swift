import Foundation

/// Polls `condition` every `millis` until it holds or `seconds` pass; returns whether it held.
/// Tests wait for a state this way instead of sleeping for a guessed time.
public func waitUntil(seconds: Double, every millis: Int = 100, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(millis))
    }
    return try await condition()
}
