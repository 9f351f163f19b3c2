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
            if keep {
                print("""
                    Next, on the databases kept in \(path):
                      dealersync status --config \(path)/DLR-BJ02.yaml            the store's sync state
                      dealersync conflicts list --config \(path)/DLR-BJ02.yaml    what the merges decided
                      dealersync digest --database \(path)/DLR-BJ02.sqlite --schema \(path)/schema.yaml
                      dealersync digest --hq-store \(path)/hq.sqlite --schema \(path)/schema.yaml --dealer DLR-BJ02
                      sqlite3 \(path)/DLR-BJ02.sqlite                              the DMS itself
                    """)
            } else {
                print("""
                    Next:
                      dealersync demo --directory /tmp/demo      keep the databases, then status, conflicts, digest on them
                      dealersync hq --help                       run a real HQ (README: quick start)
                      dealersync init --help                     set up a store (docs/CAPTURE.md)
                    """)
            }
            if !converged { throw ExitCode(1) }
        }
    }
}
