import ArgumentParser
import SyncCore

/// The `dealersync` command. Subcommands appear here as they start to work; each lives in
/// its own file (`InitCommand.swift`, …) with a thin `run()`.
@main
struct DealerSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dealersync",
        abstract: "Synchronises dealership DMS databases with headquarters.",
        discussion: """
            Try it:     dealersync demo
            At a store: `init` sets up capture in the DMS database, `agent run` syncs,
                        `status` shows how it is going (agent running or not),
                        `conflicts` reviews merge decisions, `resync` repairs missed capture,
                        `pause-capture` makes way for a DMS upgrade that drops columns.
            At HQ:      `hq serve` runs the service; `hq add-dealer` issues ids and tokens.
            Compare:    `digest` prints a digest of synced rows, equal at a converged store and HQ.
            """,
        version: DealerSyncVersion.current,
        subcommands: [Init.self, Status.self, Agent.self, Conflicts.self, Quality.self, Lookup.self, Resync.self, PauseCapture.self, HQCommand.self, DigestCommand.self, DemoCommand.self])

    static func main() async {
        LogOutput.bootstrap()
        await main(nil)
    }
}

enum DealerSyncVersion {
    static let current = DealersyncRelease.version
}
