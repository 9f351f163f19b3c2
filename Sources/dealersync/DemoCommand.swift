import ArgumentParser
import Foundation
import SyncDemo

extension DealerSync {
    struct DemoCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "demo",
            abstract: "Run HQ and three stores on this machine and watch them converge.",
            discussion: """
                Starts HQ on 127.0.0.1 with an embedded SQLite store, creates three dealer
                DMS databases with generated data, runs three agents over HTTP, edits one
                customer at two stores and at HQ at the same time, sends a hot lead from HQ
                to one store and its outcome back, and checks every store against HQ.
                Nothing to install; everything lives in a temporary directory.

                Exit status 0 only when every store converged with HQ.
                """)

        @Option(help: "Keep the databases in this directory instead of a temporary one.")
        var directory: String?

        @Option(help: "Customers generated per store.")
        var customers = 60

        func run() async throws {
            let keep = directory != nil
            let path = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("dealersync-demo-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            defer { if !keep { try? FileManager.default.removeItem(atPath: path) } }
            print("dealersync demo: HQ and three stores on this machine, in \(path)")
            var options = Demo.Options(directory: path)
            options.customersPerStore = customers
            let converged: Bool
            do {
                converged = try await Demo(options: options) { print($0) }.run()
            } catch let error as DemoError {
                FileHandle.standardError.write(Data("Error: \(error.message)\nTry: \(error.hint)\n".utf8))
                throw ExitCode(1)
            }
            print(converged ? "Converged: every store matches HQ." : "NOT converged: see the lines marked ≠ or MISSING above.")
            print("""
                Next:
                  dealersync demo --directory /tmp/demo      keep the databases, then open them with sqlite3
                  dealersync hq --help                       run a real HQ (docs/HQ.md)
                  dealersync init --help                     set up a store (docs/CAPTURE.md)
                """)
            if !converged { throw ExitCode(1) }
        }
    }
}
