import ArgumentParser
import Foundation
import HQServer
import SyncCore

/// `dealersync hq resync DEALER [--table T]`, `dealersync hq resync --list`: asks a store to
/// resync at its next cycle and shows the progress it reports (docs/ROLLOUT.md).
struct HQResyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resync",
        abstract: "Ask a store to resync a table or everything at its next cycle, and show progress.",
        discussion: """
            The store does what `dealersync resync` does there, without anyone at the store:
            it queues every row HQ may be missing and every row gone from its DMS, then pulls
            everything routed to it again. It reports progress every two seconds.
              dealersync hq resync DLR-SH01 --table customers --config hq.yaml
              dealersync hq resync --list --config hq.yaml
            """)

    @Argument(help: "The dealer to ask.")
    var dealer: String?
    @Option(help: "Only this table (default: every table the store sends).")
    var table: String?
    @Flag(help: "List the latest requests and their progress instead.")
    var list = false
    @OptionGroup var options: HQOptions

    func run() async throws {
        try await reportingErrors {
            let store = try SQLiteSyncStore(path: try await options.storePath())
            if list {
                let formatter = ISO8601DateFormatter()
                let requests = try await store.remoteRequests(dealer: dealer, limit: 50)
                if requests.isEmpty { print("(no requests yet)") }
                for request in requests {
                    let when = formatter.string(from: Date(timeIntervalSince1970: Double(request.updatedAtMillis) / 1000))
                    print(
                        "#\(request.id)  \(request.dealer)  \(request.kind) \(request.table ?? "all tables")  \(request.state.rawValue)"
                            + (request.total > 0 ? " \(request.done)/\(request.total)" : "") + "  \(when)" + (request.message.map { "  \($0)" } ?? ""))
                }
                return
            }
            guard let dealer else {
                throw CommandError("no dealer given", hint: "name the dealer, e.g. `dealersync hq resync DLR-SH01`, or pass --list")
            }
            if let table, let schema = try await options.schemaIfConfigured(), schema.table(named: table)?.direction.dealerPushes != true {
                throw CommandError("table '\(table)' is not a table stores send to HQ", hint: "name a table of the sync schema with direction both or up")
            }
            let request = try await store.requestResync(dealer: dealer, table: table, atMillis: Date.nowMillis)
            print("request #\(request.id): \(dealer) resyncs \(table ?? "every table") at its next cycle (state: \(request.state.rawValue))")
            print("Follow it with `dealersync hq resync --list`.")
        }
    }
}
