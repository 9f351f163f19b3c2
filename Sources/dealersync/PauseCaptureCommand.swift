import ArgumentParser
import Foundation
import SyncAgent
import SyncCapture

extension DealerSync {
    struct PauseCapture: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pause-capture",
            abstract: "Take dealersync's triggers off the DMS tables for a DMS upgrade; the agent puts them back and sends what changed.",
            discussion: """
                SQLite refuses `ALTER TABLE … DROP COLUMN` on a column a trigger names, and
                dealersync's triggers name every synced column: a DMS migration that drops a
                column (Django 4 does for plain fields) fails with "error in trigger
                _dealersync_…". Table rebuilds need nothing: the agent notices them.

                  systemctl stop dealersync-agent
                  dealersync pause-capture --config /etc/dealersync/agent.yaml
                  (run the DMS upgrade)
                  systemctl start dealersync-agent

                Until the agent runs again `status` says capture is off (exit 2). Its first
                cycle puts the triggers back, compares every row with what it last sent,
                and sends exactly the writes made meanwhile; nothing is lost.
                """)

        @Option(name: .long, help: "The agent's YAML config file.")
        var config: String

        func run() async throws {
            try await reportingErrors {
                let (_, lock, database) = try await AgentConfig.lockedDatabase(path: config)
                defer { withExtendedLifetime(lock) {} }
                let tables = try database.pauseCapture(nowMillis: Int64(Date().timeIntervalSince1970 * 1000))
                print(
                    """
                    Capture paused on \(tables.count) tables (\(tables.joined(separator: ", "))): run the DMS upgrade now.
                    Next: start the agent (systemctl start dealersync-agent); its first cycle puts the triggers back and sends the writes made meanwhile.
                    """)
            }
        }
    }
}
