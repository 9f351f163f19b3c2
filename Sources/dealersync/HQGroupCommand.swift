import ArgumentParser
import Foundation
import HQServer
import SyncCore

/// `dealersync hq group add|list|move`: groups of dealers that run one schema version.
struct HQGroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "Group dealers for schema rollouts (pilot, wave-2, …).",
        discussion: """
            Every dealer belongs to one group; without one it is in `default`. A new group
            starts on the default group's schema version, so moving stores into it changes
            nothing until a version is published to it.
              dealersync hq group add pilot --config hq.yaml
              dealersync hq group move pilot DLR-SH01 DLR-BJ02 --config hq.yaml
              dealersync hq add-dealer DLR-0421 --group pilot --config hq.yaml
              dealersync hq group settings wave-2 --poll-seconds 30 --pull-page-rows 500 --config hq.yaml
              dealersync hq group list --config hq.yaml
            """,
        subcommands: [Add.self, List.self, Move.self, Settings.self])

    struct Settings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set agent settings for a group's stores, over their own config (sent with every pull).")
        @Argument(help: "The group.")
        var group: String
        @Option(help: "The longest wait between cycles when the DMS does not change (1-3600).")
        var pollSeconds: Int?
        @Option(help: "Rows asked for in one pull (10-10000).")
        var pullPageRows: Int?
        @Flag(help: "Remove the group's settings: its stores use their own config again.")
        var clear = false
        @OptionGroup var options: HQOptions

        func run() async throws {
            try await reportingErrors {
                if let pollSeconds, !GroupAgentSettings.pollSecondsRange.contains(pollSeconds) {
                    throw CommandError("--poll-seconds \(pollSeconds) is out of range", hint: "use 1 to 3600 seconds")
                }
                if let pullPageRows, !GroupAgentSettings.pageRowsRange.contains(pullPageRows) {
                    throw CommandError("--pull-page-rows \(pullPageRows) is out of range", hint: "use 10 to 10000 rows")
                }
                let settings = GroupAgentSettings(pollSeconds: pollSeconds, pageRows: pullPageRows)
                guard clear || !settings.isEmpty else {
                    throw CommandError("no setting given", hint: "pass --poll-seconds, --pull-page-rows, or --clear")
                }
                let store = try SQLiteSyncStore(path: try await options.storePath())
                try await store.setAgentSettings(clear ? nil : settings, group: group, atMillis: Date.nowMillis)
                print(clear ? "cleared group \(group)'s agent settings" : "group \(group): \(settings.headerValue); its stores use it from their next pull")
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a group.")
        @Argument(help: "The group's name: letters, digits, '.', '_' or '-'.")
        var name: String
        @OptionGroup var options: HQOptions

        func run() async throws {
            try await reportingErrors {
                let store = try SQLiteSyncStore(path: try await options.storePath())
                try await store.addGroup(name, atMillis: Date.nowMillis)
                print("added group \(name); move dealers into it with `dealersync hq group move \(name) DEALER…`")
            }
        }
    }

    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move dealers into a group.")
        @Argument(help: "The group.")
        var group: String
        @Argument(help: "The dealer ids.")
        var dealers: [String]
        @OptionGroup var options: HQOptions

        func run() async throws {
            try await reportingErrors {
                guard !dealers.isEmpty else { throw CommandError("no dealer given", hint: "name the dealers after the group, e.g. `hq group move pilot DLR-SH01`") }
                let store = try SQLiteSyncStore(path: try await options.storePath())
                try await store.moveDealers(dealers, to: group)
                print("moved \(dealers.count) dealer\(dealers.count == 1 ? "" : "s") to group \(group)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List groups: schema version, dealers, and how many run that version.")
        @Flag(help: "Print JSON instead of a table.")
        var json = false
        @OptionGroup var options: HQOptions

        func run() async throws {
            try await reportingErrors {
                let store = try SQLiteSyncStore(path: try await options.storePath())
                let own = try await options.schemaIfConfigured()
                let groups = try await store.groups(hqVersion: own?.version)
                if json { return try printJSON(groups) }
                print("GROUP".padding(toLength: 16, withPad: " ", startingAt: 0) + "SCHEMA  DEALERS  RUNNING IT  AGENT SETTINGS")
                for group in groups {
                    let version = group.schemaVersion.map(String.init) ?? own.map { "\($0.version)*" } ?? "*"
                    print(
                        group.name.padding(toLength: 16, withPad: " ", startingAt: 0) + version.padding(toLength: 8, withPad: " ", startingAt: 0)
                            + String(group.dealers).padding(toLength: 9, withPad: " ", startingAt: 0)
                            + "\(group.dealersRunning)/\(group.dealers)".padding(toLength: 12, withPad: " ", startingAt: 0)
                            + (group.agentSettings?.headerValue ?? "-"))
                }
                if groups.contains(where: { $0.schemaVersion == nil }) {
                    print("(* HQ's own schema_file: no version published to the group yet)")
                }
            }
        }
    }
}
