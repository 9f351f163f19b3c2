import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SyncAgent
import SyncCapture

extension DealerSync {
    struct Agent: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "agent",
            abstract: "Run the store agent that syncs this DMS database with HQ.",
            subcommands: [Run.self, Once.self])
    }
}

extension DealerSync.Agent {
    /// What `agent run` and `agent once` share: config, lock, database, cycle.
    struct Assembly {
        var config: AgentConfig
        var database: DealerDatabase
        var lock: DatabaseLock
        var cycle: SyncCycle
        var settings: AgentSettings

        static func make(configPath: String, logger: Logger) async throws -> Assembly {
            let config = try await AgentConfig.load(path: configPath)
            let (hq, token) = try config.requireHQ()
            let lock = try DatabaseLock(databasePath: config.capture.databasePath)
            let database = try DealerDatabase(settings: config.capture)
            guard try database.installedNode() != nil else {
                throw CommandError(
                    message: "dealersync is not set up in \(config.capture.databasePath)",
                    hint: "run `dealersync init --config \(configPath)` first")
            }
            let settings = AgentSettings(
                hqURL: hq.url, token: token, pullPageRows: hq.pullPageRows, pollIntervalMillis: hq.pollIntervalMillis, retry: hq.retry)
            let cycle = SyncCycle(
                database: database, transport: try CurlTransport(settings: hq.transport), settings: settings, logger: logger)
            return Assembly(config: config, database: database, lock: lock, cycle: cycle, settings: settings)
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sync continuously until stopped (the systemd service runs this).",
            discussion: """
                Pushes captured changes promptly after each DMS commit, pulls and applies
                what HQ routes to this store, and keeps going through network outages
                (changes queue in the DMS file). Stops cleanly on SIGTERM or Ctrl-C.

                Example:
                  dealersync agent run --config /etc/dealersync/agent.yaml
                """)

        @Option(name: .long, help: "The agent's YAML config file.")
        var config: String

        func run() async throws {
            try await reportingErrors {
                let logger = Logger(label: "dealersync.agent")
                let assembly = try await Assembly.make(configPath: config, logger: logger)
                let service = AgentService(cycle: assembly.cycle, settings: assembly.settings, logger: logger)
                let group = ServiceGroup(
                    configuration: .init(services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
                withExtendedLifetime(assembly.lock) {}
            }
        }
    }

    struct Once: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one sync cycle and exit: 0 done, 1 HQ unreachable or busy (retry later), 2 refused (fix something).",
            discussion: """
                Example (from cron or by hand after fixing a problem):
                  dealersync agent once --config /etc/dealersync/agent.yaml
                """)

        @Option(name: .long, help: "The agent's YAML config file.")
        var config: String

        func run() async throws {
            let logger = Logger(label: "dealersync.agent")
            let assembly: Assembly
            do {
                assembly = try await Assembly.make(configPath: config, logger: logger)
            } catch {
                FileHandle.standardError.write(Data("Error: \(error.userFacing.description)\n".utf8))
                throw ExitCode(2)
            }
            do {
                let report = try await assembly.cycle.run()
                print("pushed \(report.pushedRows) rows in \(report.pushedBatches) batches; pulled \(report.pulledRows) rows, applied \(report.appliedRows), \(report.conflicts) conflicts decided\(report.moreWaiting ? "; more is waiting" : "")")
            } catch let error as AgentError {
                try? assembly.database.recordAgentError(error.message, hint: error.hint)
                FileHandle.standardError.write(Data("Error: \(error.message)\nTry: \(error.hint)\n".utf8))
                throw ExitCode(error.retryable ? 1 : 2)
            } catch {
                if let storage = CaptureError.storage(error, databasePath: assembly.database.settings.databasePath) {
                    // A full or failing disk: retry later, once space is freed or the disk fixed.
                    FileHandle.standardError.write(Data("Error: \(storage.message)\nTry: \(storage.hint)\n".utf8))
                    throw ExitCode(1)
                }
                FileHandle.standardError.write(Data("Error: \(error.userFacing.description)\n".utf8))
                throw ExitCode(2)
            }
        }
    }
}
