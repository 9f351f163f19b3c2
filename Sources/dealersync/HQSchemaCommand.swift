import ArgumentParser
import Foundation
import HQServer
import SyncCore

/// `dealersync hq schema publish|list`: sync schema versions for the stores (docs/ROLLOUT.md).
struct HQSchemaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Publish sync schema versions to groups of stores.",
        discussion: """
            A store runs the schema version its group is assigned: its agent fetches it from
            HQ at its next pull and adopts it (new tables registered and snapshotted, triggers
            rebuilt); nothing is copied to the store by hand. Roll out in waves:
              dealersync hq schema publish schema-v2.yaml --group pilot --config hq.yaml
              dealersync hq group list --config hq.yaml        # wait until pilot runs 2
              dealersync hq schema publish schema-v2.yaml --group wave-2 --config hq.yaml
              dealersync hq schema publish schema-v2.yaml --config hq.yaml   # every group
            Published versions never change; a group never goes back to an older version.
            """,
        subcommands: [Publish.self, List.self])

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store a schema version and assign it to a group (or every group below it).")

        @Argument(help: "The sync schema YAML; its `version:` names the version.")
        var file: String
        @Option(help: "Only this group; without it every group on an older version moves to this one.")
        var group: String?
        @OptionGroup var options: HQOptions

        func run() async throws {
            try await reportingErrors {
                let yaml: String
                do {
                    yaml = try String(contentsOfFile: file, encoding: .utf8)
                } catch {
                    throw CommandError("cannot read the schema file \(file)", hint: "check the path and its permissions")
                }
                let schema = try SyncSchema(yaml: yaml, source: file)
                let store = try SQLiteSyncStore(path: try await options.storePath())
                let published = try await store.publishSchema(schema, to: group, atMillis: Date.nowMillis)
                print(published.stored ? "published schema version \(schema.version)" : "schema version \(schema.version) was published before (same content)")
                if published.movedGroups.isEmpty {
                    print("no group changed: \(group.map { "group \($0) runs version \(schema.version) already" } ?? "every group runs this version or a newer one")")
                }
                for (name, before) in published.movedGroups.sorted(by: { $0.key < $1.key }) {
                    print("group \(name): version \(before.map(String.init) ?? "none yet") -> \(schema.version); its stores adopt it at their next pull")
                }
                if let own = try await options.schemaIfConfigured(), schema.version > own.version {
                    print(
                        "note: HQ's own schema (schema_file) is version \(own.version). Rows of tables only in version \(schema.version) are merged and routed, "
                            + "but HQ's SQL tables, quality and identity follow schema_file: point it at this file and restart hq serve to include them.")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List published schema versions and the groups that run them.")

        @OptionGroup var options: HQOptions

        func run() async throws {
            try await reportingErrors {
                let store = try SQLiteSyncStore(path: try await options.storePath())
                let own = try await options.schemaIfConfigured()
                let groups = try await store.groups(hqVersion: own?.version)
                let formatter = ISO8601DateFormatter()
                let versions = try await store.publishedSchemas(after: 0)
                if versions.isEmpty { print("(no schema published yet: every store runs HQ's schema_file)") }
                for version in versions {
                    let users = groups.filter { ($0.schemaVersion ?? own?.version) == version.version }.map(\.name)
                    let tables = (try? SyncSchema(yaml: version.yaml))?.tables.map(\.name).joined(separator: ", ") ?? "?"
                    print(
                        "version \(version.version)  published \(formatter.string(from: Date(timeIntervalSince1970: Double(version.publishedAtMillis) / 1000)))"
                            + "  groups: \(users.isEmpty ? "-" : users.joined(separator: ", "))  tables: \(tables)")
                }
            }
        }
    }
}
