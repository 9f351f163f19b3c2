import ArgumentParser
import Foundation
import HQServer

/// `dealersync hq access-log`: who at HQ read personal data (docs/PRIVACY.md).
struct HQAccessLogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access-log",
        abstract: "Show who read personal data at HQ: feed pages, customer lookups, console views and reveals, counter lookups.",
        discussion: """
            Every read is recorded with who, when, which tables and how many rows, never a
            value; records older than retention.access_log_days (default 365) are dropped.
              dealersync hq access-log --config hq.yaml
              dealersync hq access-log --who crm-export --since 2026-12-01 --config hq.yaml
              dealersync hq access-log --json --limit 10000 --config hq.yaml
            """)

    @Option(help: "Only this reader, console user or dealer id.")
    var who: String?
    @Option(help: "Only records from this UTC day on (YYYY-MM-DD); default: the last 7 days.")
    var since: String?
    @Option(help: "At most this many records, newest first.")
    var limit = 200
    @Flag(help: "Print JSON instead of a table.")
    var json = false
    @OptionGroup var options: HQOptions

    func run() async throws {
        try await reportingErrors {
            let sinceMillis: Int64
            if let since {
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withFullDate]
                guard let day = formatter.date(from: since) else {
                    throw CommandError("--since \(since) is not a date", hint: "write it as YYYY-MM-DD, e.g. 2026-12-01")
                }
                sinceMillis = Int64(day.timeIntervalSince1970 * 1000)
            } else {
                sinceMillis = Date.nowMillis - 7 * 86_400_000
            }
            guard limit > 0 else { throw CommandError("--limit must be positive", hint: "e.g. --limit 1000") }
            let store = try SQLiteSyncStore(path: try await options.storePath())
            let records = try await store.accessLog(sinceMillis: sinceMillis, who: who, limit: limit)
            if json { return try printJSON(records) }
            let formatter = ISO8601DateFormatter()
            print("TIME (UTC)            WHO                KIND      ROWS  TABLES / DETAIL")
            for record in records {
                let when = formatter.string(from: Date(timeIntervalSince1970: Double(record.atMillis) / 1000))
                let cells: [String] = [
                    when.padding(toLength: 22, withPad: " ", startingAt: 0), record.who.padding(toLength: 19, withPad: " ", startingAt: 0),
                    record.kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0), String(record.rows).padding(toLength: 6, withPad: " ", startingAt: 0),
                    record.tables.joined(separator: ","), record.detail.map { "  " + $0 } ?? "",
                ]
                print(cells.joined())
            }
            if records.isEmpty { print("(no reads of personal data recorded in this window)") }
        }
    }
}
