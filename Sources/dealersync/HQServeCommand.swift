import ArgumentParser
import HQServer
import Hummingbird
import Logging

/// `dealersync hq serve --config hq.yaml`: the HQ service until SIGTERM or SIGINT, which
/// stop accepting connections and let in-flight requests finish.
struct HQServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HQ service.")

    @OptionGroup var options: HQOptions

    func run() async throws {
        try await reportingErrors {
            let config = try await options.loadConfig()
            let app = try await buildApplication(config, logger: Logger(label: "dealersync.hq"))
            try await app.runService()
        }
    }
}
