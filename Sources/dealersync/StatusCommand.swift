import ArgumentParser
import Foundation
import SyncCapture

extension DealerSync {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show this store's sync state from the local files (agent running or not).",
            discussion: """
                Reads only the DMS file: pending changes, unsent batches and their age, last
                push and pull, clock offset to HQ, conflicts, the last error with a hint.

                Exit status: 0 healthy, 1 degraded (retrying, or batches waiting over an hour),
                2 broken (not set up, a synced table missing, the database unreadable).

                Examples:
                  dealersync status --config /etc/dealersync/agent.yaml
                  dealersync status --config agent.yaml --json | jq .pendingChanges
                """)

        @Option(name: .long, help: "The agent's YAML config file.")
        var config: String

        @Flag(name: .long, help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            let status: StoreStatus
            do {
                let agent = try await AgentConfig.load(path: config)
                status = try DealerDatabase(settings: agent.capture).status()
            } catch {
                let failure = error.userFacing
                if json {
                    print(#"{"health":"broken","problems":[{"message":\#(Self.quote(failure.message)),"hint":\#(Self.quote(failure.hint))}]}"#)
                } else {
                    FileHandle.standardError.write(Data("Error: \(failure.description)\n".utf8))
                }
                throw ExitCode(StoreStatus.Health.broken.exitCode)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(status), as: UTF8.self))
            } else {
                print(Self.render(status))
            }
            if status.health != .healthy { throw ExitCode(status.health.exitCode) }
        }

        static func quote(_ text: String) -> String {
            String(decoding: (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
        }

        static func render(_ status: StoreStatus) -> String {
            func ago(_ date: Date?) -> String {
                guard let date else { return "never" }
                let seconds = Int(Date().timeIntervalSince(date))
                return seconds < 120 ? "\(seconds)s ago" : seconds < 7200 ? "\(seconds / 60)m ago" : "\(seconds / 3600)h ago"
            }
            let waitingRows: Int = status.waitingForTables.values.reduce(0, +)
            let waitingTables: String =
                status.waitingForTables.isEmpty ? "" : " (" + status.waitingForTables.keys.sorted().joined(separator: ", ") + ")"
            var lines = [
                "node             \(status.node)",
                "database         \(status.database)",
                "HQ               \(status.hqURL ?? "not contacted yet")",
                "health           \(status.health.rawValue)",
                "pending changes  \(status.pendingChanges) captured, \(status.outboxRows) rows in \(status.outboxBatches) unsent batches"
                    + (status.oldestUnsentSeconds.map { " (oldest \($0)s)" } ?? ""),
                "last push        \(ago(status.lastPushAt))",
                "last pull        \(ago(status.lastPullAt))",
                "clock offset     \(status.clockOffsetMillis.map { "\($0) ms to HQ" } ?? "not measured")",
                "conflicts        \(status.unresolvedConflicts) decided automatically, awaiting review"
                    + (status.unresolvedConflicts > 0 ? " (dealersync conflicts list)" : ""),
                "HQ's answers     \(status.refusedByHQ) pushed rows refused, \(status.overruledByHQ) with columns HQ kept",
                "held from HQ     \(status.heldRows) rows refused by the DMS, \(waitingRows) waiting for a table\(waitingTables)",
            ]
            for problem in status.problems {
                lines.append("problem          \(problem.message)")
                lines.append("  try            \(problem.hint)")
            }
            return lines.joined(separator: "\n")
        }
    }
}
