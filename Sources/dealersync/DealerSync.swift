import ArgumentParser

/// The `dealersync` command. Subcommands appear here as they start to work; each lives in
/// its own file (`InitCommand.swift`, …) with a thin `run()`.
@main
struct DealerSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dealersync",
        abstract: "Synchronises dealership DMS databases with headquarters.",
        discussion: """
            At a store: `init` sets up change capture in the DMS database.
            At HQ: `hq serve` runs the HQ service; `hq add-dealer` issues node ids and tokens.
            `demo` is not in this build yet.
            """,
        version: DealerSyncVersion.current,
        subcommands: [Init.self, Status.self, Agent.self, HQCommand.self, DemoCommand.self])
}

enum DealerSyncVersion {
    static let current = "0.1.0"
}
