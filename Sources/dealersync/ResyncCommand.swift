import ArgumentParser
import Foundation
import SyncAgent
import SyncCapture

extension DealerSync {
    struct Resync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resync",
            abstract: "Repair capture after writes it missed, and pull everything from HQ again (safe to re-run).",
            discussion: """
                The agent repairs table rebuilds, dropped triggers and restored backups by
                itself; use this when rows are known to be missing at HQ anyway (written
                while dealersync was removed, or through a partial or expression UNIQUE
                index REPLACE). It queues every DMS row
                that has no sync history (as an insert) and every synced row that is gone
                from the DMS (as a delete), then clears the pull cursor so the next cycle
                pulls all rows routed to this store again. Applying a row that is already
                here changes nothing, so running it twice, or on a healthy store, is harmless.
                The DMS keeps working: each chunk is a short transaction.

                Stop the agent first (resync takes its lock), then start it again:
                  systemctl stop dealersync-agent
                  dealersync resync --config /etc/dealersync/agent.yaml
                  systemctl start dealersync-agent      # or: dealersync agent once --config …

                Rows changed (not added or deleted) while dealersync was removed cannot be
                told apart here; compare the store with HQ (`dealersync digest`) to find them.
                """)

        @Option(name: .long, help: "The agent's YAML config file.")
        var config: String

        func run() async throws {
            try await reportingErrors {
                let (agent, lock, database) = try await AgentConfig.lockedDatabase(path: config)
                defer { withExtendedLifetime(lock) {} }
                let progress = ProgressLine()
                let report = try database.resync { step in
                    progress.show("\(step.step) \(step.table): \(step.done)/\(step.total)")
                }
                progress.finish()
                print(
                    """
                    Checked \(report.checked) rows and sync records in \(agent.capture.databasePath).
                    Queued \(report.unsyncedRows) rows without sync history (as inserts) and \(report.vanishedRows) rows gone from the DMS (as deletes).
                    Cleared the pull cursor: the next cycle pulls every row routed to \(agent.capture.node) again.
                    Next: start the agent (systemctl start dealersync-agent) or run `dealersync agent once --config \(config)`.
                    """)
            }
        }
    }
}
