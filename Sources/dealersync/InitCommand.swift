import ArgumentParser
import Foundation
import SyncCapture

extension DealerSync {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Set up change capture in this store's DMS database (safe to re-run).",
            discussion: """
                Checks every table of the sync schema, creates dealersync's own tables
                (all named _dealersync_*) and the capture triggers, and queues the rows
                that already exist for the first push. The DMS keeps working meanwhile:
                the snapshot runs in short transactions (capture.max_lock_millis).

                Examples:
                  dealersync init --config /etc/dealersync/agent.yaml
                  dealersync init --config agent.yaml --schema schema.yaml   # offline set-up
                  dealersync init --config agent.yaml --check                # validate only
                  dealersync init --config agent.yaml --remove               # undo completely
                """)

        @Option(name: .long, help: "The agent's YAML config file.")
        var config: String

        @Option(name: .long, help: "The sync schema YAML (default: schema_file from the config).")
        var schema: String?

        @Flag(name: .long, help: "Only check the DMS tables against the schema; change nothing.")
        var check = false

        @Flag(name: .long, help: "Drop every _dealersync_* table and trigger, leaving the DMS schema as before init.")
        var remove = false

        func validate() throws {
            if check && remove { throw ValidationError("--check and --remove cannot be used together") }
        }

        func run() async throws {
            try await reportingErrors {
                let agent = try await AgentConfig.load(path: config)
                let database = try DealerDatabase(settings: agent.capture)
                if remove {
                    let dropped = try database.remove()
                    print("Removed \(dropped) dealersync objects from \(agent.capture.databasePath); the DMS schema is as it was before init.")
                    return
                }
                let syncSchema = try agent.loadSchema(override: schema)
                if check {
                    let warnings = try database.validate(schema: syncSchema)
                    Self.warn(warnings)
                    print(warnings.isEmpty
                        ? "OK: all \(syncSchema.tables.count) tables of the sync schema can be synced."
                        : "OK: \(syncSchema.tables.count - warnings.count) of \(syncSchema.tables.count) tables of the sync schema can be synced; the others wait until the DMS creates them.")
                    return
                }
                let progress = ProgressLine()
                let report = try database.install(schema: syncSchema) { step in
                    progress.show("\(step.step) \(step.table): \(step.done)/\(step.total) rows")
                }
                progress.finish()
                Self.warn(report.warnings)
                let verb = report.alreadyInstalled ? "Checked" : "Initialised"
                print("\(verb) node \(agent.capture.node) on \(agent.capture.databasePath): \(report.tables.count) captured tables, \(report.snapshotRows) existing rows queued in the DMS file for the first push.")
            }
        }

        /// Schema tables the DMS has not created yet: not an error, one line each on stderr.
        static func warn(_ warnings: [String]) {
            for warning in warnings {
                FileHandle.standardError.write(Data("Warning: \(warning)\n".utf8))
            }
        }
    }
}

/// A progress line on stderr: rewritten in place on a terminal, one line per update in a log.
final class ProgressLine {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastPrinted = Date.distantPast
    private var shown = false

    func show(_ text: String) {
        // Logs get at most one line a second; a terminal every update.
        guard isTerminal || Date().timeIntervalSince(lastPrinted) >= 1 else { return }
        lastPrinted = Date()
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + text + (isTerminal ? "" : "\n")).utf8))
        shown = true
    }

    func finish() {
        if isTerminal && shown { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
