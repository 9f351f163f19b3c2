import ArgumentParser
import Foundation

/// `swift run -c release dealersync-bench [scenario…] [--quick] [--json FILE]`
///
/// Every figure is measured next to its baseline in the same run (this machine is shared
/// and noisy), and printed with the goal it is held to.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dealersync-bench",
        abstract: "Measure dealersync against its baselines and goals.",
        discussion: """
            Scenarios: capture, metadata, push, apply, wire, latency, initial-load, fleet, idle, status, hostile, catch-up, capture-gap, retention, identity, console, new-store, erasure (default: all).
            --screenshots DIR runs the demo and writes a PNG of every console page (scripts/screenshots).
            Run in release mode for real figures:
              swift run -c release dealersync-bench capture latency
            --quick runs small sizes, to check that every scenario works (the tests do this).
            """)

    enum Scenario: String, CaseIterable, ExpressibleByArgument {
        case capture, metadata, push, apply, wire, latency, initialLoad = "initial-load", fleet, idle, status, hostile, catchUp = "catch-up", captureGap = "capture-gap", retention, identity, console, newStore = "new-store", erasure
    }

    @Argument(help: "Scenarios to run.")
    var scenarios: [Scenario] = Scenario.allCases

    @Flag(help: "Small sizes: checks the scenarios run, not the goals.")
    var quick = false

    @Option(help: "Also write the figures as JSON to this file.")
    var json: String?

    /// The fleet scenario's HQ process: this binary again, serving the given store.
    @Option(help: .hidden)
    var serveHQ: String?

    @Option(help: .hidden)
    var port: Int = 0

    @Option(help: "Run the demo and write a PNG of every console page into this directory (needs chromium).")
    var screenshots: String?

    func run() async throws {
        if let serveHQ { return try await FleetScenario.serve(storePath: serveHQ, port: port) }
        if let screenshots { return try await ConsoleScenario.screenshots(into: screenshots) }
        var figures: [Figure] = []
        var failed: [String] = []
        for scenario in scenarios {
            FileHandle.standardError.write(Data("running \(scenario.rawValue)\(quick ? " (quick)" : "")…\n".utf8))
            // One scenario failing must not lose the others' figures.
            let before = figures.count
            do {
                switch scenario {
                case .capture: figures += try CaptureScenario.run(quick: quick)
                case .metadata: figures += try MetadataScenario.run(quick: quick)
                case .latency: figures += try await LatencyScenario.run(quick: quick)
                case .push: figures += try await PushScenario.run(quick: quick)
                case .apply: figures += try await ApplyScenario.run(quick: quick)
                case .wire: figures += try WireScenario.run(quick: quick)
                case .initialLoad: figures += try await InitialLoadScenario.run(quick: quick)
                case .status: figures += try StatusScenario.run(quick: quick)
                case .fleet: figures += try await FleetScenario.run(quick: quick)
                case .idle: figures += try await IdleScenario.run(quick: quick)
                case .hostile: figures += try await HostileScenario.run(quick: quick)
                case .catchUp: figures += CatchUpScenario.run(quick: quick)
                case .captureGap: figures += try CaptureGapScenario.run(quick: quick)
                case .retention: figures += try await RetentionScenario.run(quick: quick)
                case .identity: figures += try await IdentityScenario.run(quick: quick)
                case .console: figures += try await ConsoleScenario.run(quick: quick)
                case .newStore: figures += try await NewStoreScenario.run(quick: quick)
                case .erasure: figures += try await ErasureScenario.run(quick: quick)
                }
                // Shown as they come: a full run takes minutes.
                FileHandle.standardError.write(Data((Self.table(Array(figures[before...])) + "\n").utf8))
            } catch {
                FileHandle.standardError.write(Data("\(scenario.rawValue) failed: \(error)\n".utf8))
                failed.append(scenario.rawValue)
            }
        }
        print(Self.table(figures))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(figures).write(to: URL(fileURLWithPath: json))
        }
        if !failed.isEmpty {
            FileHandle.standardError.write(Data("failed: \(failed.joined(separator: ", "))\n".utf8))
            throw ExitCode.failure
        }
    }

    static func table(_ figures: [Figure]) -> String {
        var lines = ["| scenario | metric | value | baseline | ratio | goal | met |", "|---|---|---|---|---|---|---|"]
        for figure in figures {
            let value = String(format: "%.2f %@", figure.value, figure.unit)
            let baseline = figure.baseline.map { String(format: "%.2f %@", $0, figure.unit) } ?? "—"
            let ratio = figure.ratio.map { String(format: "%.2fx", $0) } ?? "—"
            let met = figure.met.map { $0 ? "yes" : "NO" } ?? "—"
            lines.append("| \(figure.scenario) | \(figure.metric) | \(value) | \(baseline) | \(ratio) | \(figure.goal) | \(met) |")
        }
        return lines.joined(separator: "\n")
    }
}
