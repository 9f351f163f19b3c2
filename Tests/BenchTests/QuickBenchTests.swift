import Foundation
import SyncTestSupport
import Testing

/// Runs every scenario of the built `dealersync-bench` binary with `--quick`, as a user
/// would, and checks its figures are sane — not that goals are met (speed goals live in
/// the bench and BENCHMARKS.md, never in tests).
@Suite("dealersync-bench --quick", .serialized)
struct QuickBenchTests {
    struct Figure: Decodable {
        var scenario: String
        var metric: String
        var value: Double
        var unit: String
        var baseline: Double?
        var goal: String
        var met: Bool?
    }

    static let scenarios = ["capture", "metadata", "push", "apply", "wire", "latency", "initial-load", "fleet", "idle", "status", "hostile", "catch-up", "capture-gap", "retention", "identity", "console", "erasure"]

    /// The bench binary `swift build --build-tests` made next to `dealersync`.
    static var benchBinary: URL? {
        ProcessRunner.dealersyncBinary.map { $0.deletingLastPathComponent().appendingPathComponent("dealersync-bench") }
            .flatMap { FileManager.default.isExecutableFile(atPath: $0.path) ? $0 : nil }
    }

    @Test("each scenario runs and prints sane figures", arguments: scenarios)
    func scenario(_ name: String) async throws {
        let binary = try #require(Self.benchBinary, "build first: swift build --build-tests")
        let directory = TemporaryDirectory("bench-test")
        let json = directory.file("figures.json")
        let result = try await ProcessRunner.run(binary, [name, "--quick", "--json", json])
        #expect(result.status == 0, "\(result.stderr.suffix(2_000))")
        let figures = try JSONDecoder().decode([Figure].self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        #expect(!figures.isEmpty)
        for figure in figures {
            #expect(figure.scenario == name)
            #expect(figure.value.isFinite && figure.value >= 0, "\(figure.metric): \(figure.value)")
            if let baseline = figure.baseline { #expect(baseline.isFinite && baseline > 0, "\(figure.metric): baseline \(baseline)") }
            // A goal is judged exactly when one is stated.
            #expect((figure.met != nil) == !figure.goal.isEmpty, "\(figure.metric)")
        }
        // The printed table has one line per figure.
        #expect(result.stdout.split(separator: "\n").filter { $0.hasPrefix("| \(name) |") }.count == figures.count)
    }
}
