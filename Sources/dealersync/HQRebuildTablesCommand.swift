import ArgumentParser
import Foundation
import HQServer

/// `dealersync hq rebuild-tables --config hq.yaml [--check]`: HQ's SQL tables refilled from
/// the merged rows, then compared with them (docs/HQ-TABLES.md).
struct HQRebuildTablesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild-tables",
        abstract: "Refill HQ's SQL tables from the merged rows and check them (or only check, with --check).",
        discussion: """
            HQ keeps its SQL tables (store.tables_path) with every merge, and catches them up
            when it starts. Rebuild them after the file was damaged or a declared column's type
            changed; `hq serve` may keep running (a table is partly empty while it refills).
              dealersync hq rebuild-tables --config /etc/dealersync/hq.yaml
              dealersync hq rebuild-tables --config /etc/dealersync/hq.yaml --check
            The check puts every merged row, converted as SQLite converts it, next to the table's
            and counts the rows that differ by value or storage class; exit 1 if any do.
            """)

    @OptionGroup var options: HQOptions
    @Flag(help: "Only compare the tables with the merged rows; change nothing.")
    var check = false

    func run() async throws {
        try await reportingErrors {
            let config = try await options.loadConfig()
            guard let tablesPath = config.tablesPath else {
                throw CommandError("HQ keeps no SQL tables: store.tables_path is off", hint: "remove `tables_path: off` from hq.yaml, or set it to a file (docs/HQ-TABLES.md)")
            }
            let store = try SQLiteSyncStore(path: config.storePath, tables: (tablesPath, config.schema), maxTableColumns: config.limits.maxTableColumns)
            if !check {
                let progress = ProgressLine()
                let applied = try store.rebuildTables { done, total in progress.show("rebuilding \(tablesPath): \(done)/\(total) rows") }
                progress.finish()
                print("Rebuilt \(tablesPath) from \(applied) merged rows.")
            }
            let differences = try store.checkTables()
            for (table, count) in differences.sorted(by: { $0.key < $1.key }) {
                print(count == 0 ? "\(table): equal to the merged rows" : "\(table): \(count) rows differ from the merged rows")
            }
            if differences.isEmpty { print("No table declares its columns in the sync schema, so there is nothing to check.") }
            if differences.values.contains(where: { $0 > 0 }) {
                throw CommandError("HQ's SQL tables differ from the merged rows", hint: "run `dealersync hq rebuild-tables --config …` without --check")
            }
        }
    }
}
