import ArgumentParser
import Foundation
import SyncCapture
import SyncCore

extension DealerSync {
    struct Conflicts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "conflicts",
            abstract: "Review the conflicts this store's merges decided, and settle them.",
            discussion: """
                Two writes to the same column that did not see each other (at two stores, or
                a store and HQ) are decided automatically by the sync schema's rule (owner,
                then last writer) the same way everywhere; nothing is lost: the losing values
                are kept in _dealersync_conflicts until you review them.

                Examples:
                  dealersync conflicts list --config /etc/dealersync/agent.yaml
                  dealersync conflicts show 12 --config agent.yaml
                  dealersync conflicts resolve 12 --keep --config agent.yaml
                  dealersync conflicts resolve 12 --use-losing --config agent.yaml
                """,
            subcommands: [List.self, Show.self, Resolve.self],
            defaultSubcommand: List.self)

        struct Options: ParsableArguments {
            @Option(name: .long, help: "The agent's YAML config file.")
            var config: String

            func database() async throws -> DealerDatabase {
                try DealerDatabase(settings: try await AgentConfig.load(path: config).capture)
            }
        }
    }
}

extension DealerSync.Conflicts {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List conflicts awaiting review, newest first (no values: use `show`).")

        @OptionGroup var options: DealerSync.Conflicts.Options

        @Flag(name: .long, help: "Include conflicts already resolved.")
        var all = false

        @Option(name: .long, help: "Show at most this many.")
        var limit = 50

        @Flag(name: .long, help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            try await reportingErrors {
                let records = try await options.database().conflicts(includeResolved: all, limit: limit)
                if json {
                    print(try ConflictJSON.rendered(records.map { ConflictJSON($0, withValues: false) }))
                    return
                }
                guard !records.isEmpty else {
                    print(all ? "No conflicts logged." : "No conflicts await review (`--all` lists resolved ones too).")
                    return
                }
                print("#      decided (UTC)          table.column                     rule                       state")
                for record in records {
                    let where_ = "\(record.table).\(record.column ?? "(row)")"
                    print(
                        "\(pad("\(record.id)", 6)) \(pad(ConflictJSON.time(record.decidedAt), 22)) \(pad(where_, 32)) "
                            + "\(pad(record.reason, 26)) \(record.resolvedAt == nil ? "awaiting review" : "resolved")")
                }
                print("See one: dealersync conflicts show <#> --config \(options.config)")
            }
        }

        private func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one conflict: the row, the writes, the value kept and the values that lost.")

        @Argument(help: "The conflict's number, from `conflicts list`.")
        var id: Int64

        @OptionGroup var options: DealerSync.Conflicts.Options

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() async throws {
            try await reportingErrors {
                let record = try await options.database().conflict(id: id)
                if json {
                    print(try ConflictJSON.rendered(ConflictJSON(record, withValues: true)))
                    return
                }
                var lines = [
                    "conflict   #\(record.id), decided \(ConflictJSON.time(record.decidedAt)) by \(record.reason)",
                    "row        \(record.table) key \(record.key.values.map(ConflictJSON.display).joined(separator: ", "))",
                    "column     \(record.column ?? "(the row itself: a delete against an update)")",
                    "kept       \(record.winner)" + (record.winningValue.map { " = \(ConflictJSON.display($0))" } ?? ""),
                ]
                for (index, loser) in record.losers.enumerated() {
                    let value = index < record.losingValues.count ? " = \(ConflictJSON.display(record.losingValues[index]))" : ""
                    lines.append("lost \(index + 1)     \(loser)\(value)")
                }
                lines.append("state      " + (record.resolvedAt.map { "resolved \(ConflictJSON.time($0))" } ?? "awaiting review"))
                if record.resolvedAt == nil {
                    lines.append("settle     dealersync conflicts resolve \(record.id) --keep | --use-losing [--loser N] --config \(options.config)")
                }
                print(lines.joined(separator: "\n"))
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep the decision, or put a losing value back (it then syncs everywhere).",
            discussion: """
                --keep marks the conflict reviewed and changes no data.
                --use-losing writes the losing value into the DMS row (for an update that won
                over a delete: deletes the row) as an ordinary local edit; the agent sends it,
                and because it has seen every write of the conflict it replaces them at HQ and
                at every store.
                """)

        @Argument(help: "The conflict's number, from `conflicts list`.")
        var id: Int64

        @OptionGroup var options: DealerSync.Conflicts.Options

        @Flag(name: .long, help: "Keep the value the rule chose.")
        var keep = false

        @Flag(name: .long, help: "Write the losing value (or delete) back into the DMS.")
        var useLosing = false

        @Option(name: .long, help: ArgumentHelp("Which losing write, when there are several (see `show`).", valueName: "N"))
        var loser: Int?

        func validate() throws {
            guard keep != useLosing else { throw ValidationError("say how to settle it: --keep, or --use-losing [--loser N]") }
            if loser != nil && !useLosing { throw ValidationError("--loser goes with --use-losing") }
        }

        func run() async throws {
            try await reportingErrors {
                let choice: ConflictChoice = keep ? .keep : .useLosing(loser: loser)
                let wall = Int64(Date().timeIntervalSince1970 * 1000)
                let record = try await options.database().resolveConflict(id: id, choice: choice, wallMillis: wall)
                if keep {
                    print("Conflict #\(record.id) resolved: the rule's choice (\(record.winner)) stays.")
                } else {
                    print(
                        "Conflict #\(record.id) resolved: the losing \(record.column == nil ? "delete" : "value") is written back in \(record.table); "
                            + "the agent sends it with its next cycle (`dealersync status` shows it pending).")
                }
            }
        }
    }
}

/// A conflict as `--json` prints it. Values only for `show`, the operator's explicit ask.
struct ConflictJSON: Encodable {
    var id: Int64
    var table: String
    var key: [String]
    var column: String?
    var rule: String
    var winner: String
    var losers: [String]
    var decidedAt: String
    var resolvedAt: String?
    var keptValue: String?
    var losingValues: [String]?

    init(_ record: ConflictRecord, withValues: Bool) {
        id = record.id
        table = record.table
        key = record.key.values.map(Self.display)
        column = record.column
        rule = record.reason
        winner = record.winner
        losers = record.losers
        decidedAt = Self.time(record.decidedAt)
        resolvedAt = record.resolvedAt.map(Self.time)
        if withValues {
            keptValue = record.winningValue.map(Self.display)
            losingValues = record.losingValues.map(Self.display)
        }
    }

    static func rendered(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func time(_ date: Date) -> String {
        date.ISO8601Format()
    }

    /// A value as an operator reads it: text quoted, numbers as they are, blobs by size.
    static func display(_ value: SQLValue) -> String {
        switch value {
        case .null: "NULL"
        case .integer(let number): "\(number)"
        case .real(let number): "\(number)"
        case .text(let text): "\"\(text)\""
        case .blob(let bytes): "<\(bytes.count)-byte blob>"
        }
    }
}
