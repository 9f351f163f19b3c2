import ArgumentParser
import Foundation
import HQServer
import SyncCore

/// `dealersync hq erase TABLE KEY_JSON`: a data subject's erasure, everywhere (docs/PRIVACY.md).
struct HQEraseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase one row everywhere dealersync keeps it: HQ, its history, and every store that holds it.",
        discussion: """
            HQ replaces the row by a tombstone without values, removes it from the feed's
            history, conflict records, dead letters, its SQL tables and the golden record, and
            each store that held the row deletes it, drops its held rows and conflict records
            and scrubs its database file at its next pull. `hq erasures` shows which stores have
            confirmed. A store that pushes the row again later is refused, not merged.
              dealersync hq erase customers '["C-1"]' --reason "ticket 4711" --config hq.yaml
              dealersync hq erase service_lines '["DLR-0007", 42]' --config hq.yaml
            The key is a JSON array of the row's primary-key values, in key order, as HQ holds
            it (an `up` table's key starts with the dealer id; HQ never sends such rows to
            stores, so the store's own copy is deleted there). `hq serve` may keep running.
            """)

    @Argument(help: "The synced table.")
    var table: String
    @Argument(help: "The row's key as a JSON array, e.g. '[\"C-1\"]'.")
    var key: String
    @Option(help: "A ticket number or short note kept with the erasure; never customer data.")
    var reason: String?
    @OptionGroup var options: HQOptions

    func run() async throws {
        try await reportingErrors {
            let config = try await options.loadConfig()
            let values = try parseKeyArgument(key)
            let operatorName = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "root"
            let request = try ErasureController<SQLiteSyncStore>.request(
                .init(table: table, key: values, reason: reason), by: "cli:\(operatorName)", schema: config.schema, atMillis: Date.nowMillis)
            // With its SQL tables, so the row leaves them in the same transaction.
            let store = try SQLiteSyncStore(
                path: config.storePath, tables: config.tablesPath.map { ($0, config.schema) }, maxTableColumns: config.limits.maxTableColumns)
            let status = try await store.erase(request)
            if !status.created { print("That row of \(status.table) was erased before (erasure \(status.id)).") }
            else { print("Erased the row of \(status.table) at HQ (erasure \(status.id)).") }
            if request.spec.direction == .up, case .text(let dealer)? = request.key.values.first {
                // HQ never sends `up` rows to stores, so it cannot erase the store's copy.
                print("Rows of '\(status.table)' (direction up) stay at the store that wrote them: delete the row in \(dealer)'s DMS as well.")
            }
            print(status.holders.isEmpty ? "No store held it." : status.done
                ? "Every store that held it has confirmed."
                : "Stores to confirm at their next pull: \(status.pending.joined(separator: ", "))")
            print("HQ's files are rewritten in the next retention pass. Follow it with: dealersync hq erasures --config …")
        }
    }
}

/// `dealersync hq erasures`: erasures and the stores that still have to confirm them.
struct HQErasuresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erasures",
        abstract: "List erasures, newest first, and which stores still have to confirm them.",
        discussion: """
            A store confirms an erasure by pulling past its tombstone: it has then deleted the
            row and scrubbed its database file. HQ rewrites its own files in the next retention
            pass (retention.interval_seconds); an erasure is done after both.
              dealersync hq erasures --config hq.yaml
              dealersync hq erasures --pending --json --config hq.yaml
            """)

    @Flag(help: "Only erasures some store has not confirmed yet.")
    var pending = false
    @Option(help: "At most this many erasures.")
    var limit = 100
    @Flag(help: "Print JSON instead of a table.")
    var json = false
    @OptionGroup var options: HQOptions

    func run() async throws {
        try await reportingErrors {
            guard limit > 0 else { throw CommandError("--limit must be positive", hint: "e.g. --limit 1000") }
            let store = try SQLiteSyncStore(path: try await options.storePath())
            let erasures = try await store.erasures(id: nil, limit: limit).filter { !pending || !$0.done }
            if json { return try printJSON(erasures) }
            let formatter = ISO8601DateFormatter()
            print("ID     REQUESTED (UTC)       BY                 TABLE           STATE    KEY / WAITING FOR")
            for erasure in erasures {
                let when = formatter.string(from: Date(timeIntervalSince1970: Double(erasure.requestedAtMillis) / 1000))
                let state = erasure.done ? "done" : "pending"
                let hqFiles = erasure.scrubbedAtMillis == nil ? ["HQ's file rewrite (next retention pass)"] : []
                let waiting = erasure.done ? "" : "  waiting for " + (erasure.pending + hqFiles).joined(separator: ", ")
                print([
                    String(erasure.id).padding(toLength: 7, withPad: " ", startingAt: 0), when.padding(toLength: 22, withPad: " ", startingAt: 0),
                    erasure.requestedBy.padding(toLength: 19, withPad: " ", startingAt: 0), erasure.table.padding(toLength: 16, withPad: " ", startingAt: 0),
                    state.padding(toLength: 9, withPad: " ", startingAt: 0), erasure.keyJSON + waiting,
                ].joined())
            }
            if erasures.isEmpty { print(pending ? "(no erasure is waiting for a store)" : "(no erasures)") }
        }
    }
}
