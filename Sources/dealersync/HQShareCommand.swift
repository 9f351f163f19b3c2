import ArgumentParser
import Foundation
import HQServer
import SyncCore

/// `dealersync hq share TABLE KEY_JSON --dealer ID`: lets a dealer hold a row it did not
/// create and is not routed (docs/SECURITY.md, read scope).
struct HQShareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "share",
        abstract: "Let a dealer receive and write a row it did not create.",
        discussion: """
            A dealer receives a row only when it created it, the table's routing column names it,
            the table is broadcast, or HQ shares the row with it. Examples:
              dealersync hq share vehicles '["LSVAU2180N2183294"]' --dealer DLR-0421 --config hq.yaml
              dealersync hq share orders '[42, "A"]' --dealer DLR-0007 --store hq.sqlite --schema sync-schema.yaml
            The key is a JSON array of the row's primary-key values, in key order: a string is
            TEXT, a whole number INTEGER, or typed as in the feed ({"type": "integer", "value": 7}).
            """)

    @Argument(help: "The synced table.")
    var table: String
    @Argument(help: "The row's key as a JSON array, e.g. '[\"C-1\"]'.")
    var key: String
    @Option(help: "The dealer id that may hold the row.")
    var dealer: String
    @OptionGroup var options: HQOptions

    func run() async throws {
        try await reportingErrors {
            guard let schema = try await options.schemaIfConfigured() else {
                throw CommandError("no sync schema given", hint: "pass --config hq.yaml (its schema_file names the tables)")
            }
            let values = try parseKeyArgument(key)
            let (table, rowKey, node) = try ShareController<SQLiteSyncStore>.validate(.init(table: table, key: values, dealer: dealer), schema: schema)
            let store = try SQLiteSyncStore(path: try await options.storePath())
            let added = try await store.share(table: table, key: rowKey, with: node)
            print(added ? "shared the row of \(table) with \(node); it arrives at the dealer's next pull" : "\(node) already holds that row of \(table)")
        }
    }
}
