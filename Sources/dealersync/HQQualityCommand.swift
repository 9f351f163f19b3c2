import ArgumentParser
import Foundation
import HQServer

/// `dealersync hq quality [--dealer ID] [--json]`: data quality per dealer and field, from
/// the store file, HQ running or not (docs/QUALITY.md).
struct HQQualityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quality",
        abstract: "Show data quality per dealer and field (the sync schema's quality rules).",
        discussion: """
            Every synced row is checked against the schema's `quality:` rules as it merges.
            This shows the fleet's score, each dealer's score and its worst fields, with the
            field dictionary's descriptions. Stores list their own records to fix with
            `dealersync quality` (or GET /v1/dealers/ID/quality).

            Examples:
              dealersync hq quality --config /etc/dealersync/hq.yaml
              dealersync hq quality --dealer DLR-0421 --config hq.yaml
              dealersync hq quality --json --config hq.yaml
            """)

    @OptionGroup var options: HQOptions
    @Option(help: "Only this dealer.")
    var dealer: String?
    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        try await reportingErrors {
            let config = try await options.loadConfig()
            guard let tablesPath = config.tablesPath, FileManager.default.fileExists(atPath: tablesPath) else {
                throw CommandError(
                    "HQ keeps no SQL tables yet, where quality issues live (store.tables_path)",
                    hint: "start `dealersync hq serve` once with store.tables_path on (the default)")
            }
            let store = try SQLiteSyncStore(path: try await options.storePath(), tables: (tablesPath, config.schema))
            let report = try await store.qualityReport(schema: config.schema, dealer: dealer)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
                return
            }
            print(Self.table(report))
        }
    }

    static func table(_ report: QualityReport) -> String {
        guard !report.dealers.isEmpty else {
            return "No rows scored yet (no table of the sync schema has `quality:` rules, or no rows arrived)."
        }
        var lines = ["Fleet score \(DealerSync.Quality.percent(report.score)) over \(report.dealers.count) dealers", "DEALER      SCORE  ROWS    WORST FIELDS"]
        for dealer in report.dealers.sorted(by: { ($0.score, $0.dealer) < ($1.score, $1.dealer) }) {
            let worst = dealer.fields.prefix(3).map { "\($0.table).\($0.column) \(DealerSync.Quality.percent($0.validShare))" }.joined(separator: ", ")
            lines.append(dealer.dealer.padding(toLength: 11, withPad: " ", startingAt: 0) + " "
                + DealerSync.Quality.percent(dealer.score).padding(toLength: 6, withPad: " ", startingAt: 0) + " "
                + String(dealer.rows).padding(toLength: 7, withPad: " ", startingAt: 0) + " " + worst)
        }
        return lines.joined(separator: "\n")
    }
}
