import ArgumentParser

/// The `dealersync` command. Subcommands appear here as they start to work: this build has
/// the sync core only; `init`, `agent`, `hq`, `status` and `demo` follow (see README).
@main
struct DealerSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dealersync",
        abstract: "Synchronises dealership DMS databases with headquarters.",
        discussion: """
            This build contains the sync core (values, clocks, merge, batch format).
            Commands for the store agent, the HQ service and the demo are not in it yet.
            """,
        version: DealerSyncVersion.current,
        subcommands: [HQCommand.self])
}

enum DealerSyncVersion {
    static let current = "0.1.0"
}
