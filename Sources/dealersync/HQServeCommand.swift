import ArgumentParser
import HQServer
import Hummingbird
import Logging
import ServiceLifecycle
import SystemdNotify

/// `dealersync hq serve --config hq.yaml`: the HQ service until SIGTERM or SIGINT. Then new
/// requests get 503, requests in flight finish, and the process exits.
struct HQServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HQ service.")

    @OptionGroup var options: HQOptions

    func run() async throws {
        try await reportingErrors {
            let config = try await options.loadConfig()
            let logger = Logger(label: "dealersync.hq")
            // Under systemd (Type=notify): READY once listening, WATCHDOG while the store
            // answers, STOPPING when the drain begins. Outside systemd nothing is sent.
            let systemd = SystemdNotifier()
            let drain = HQDrain(systemd: systemd)
            let app = try await buildApplication(config, drain: drain, systemd: systemd, logger: logger)
            // Shutdown runs in reverse order: the drain refuses and waits first, then the server stops.
            let group = ServiceGroup(
                configuration: .init(services: [.init(service: app), .init(service: drain)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}
