import ArgumentParser
import Foundation
import HQServer
import SyncAgent
import SyncCore

extension DealerSync {
    /// `dealersync quality --config agent.yaml`: this store's data-quality score and the records
    /// HQ found to fix, asked from HQ (docs/QUALITY.md).
    struct Quality: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "quality",
            abstract: "List this store's records HQ found to fix (data quality), with what to correct.",
            discussion: """
                HQ checks every synced row against the sync schema's quality rules (required
                fields, mobile and ID formats, placeholder numbers, a number shared by many
                customers, …). This asks HQ for this store's score, its worst fields and its
                open issues: each names the DMS record by its key and says what to correct.
                A corrected record drops off by itself after the next sync.

                Examples:
                  dealersync quality --config /etc/dealersync/agent.yaml
                  dealersync quality --config agent.yaml --json > issues.json
                """)

        @Option(name: .long, help: "The agent's YAML config file.")
        var config: String
        @Flag(help: "Print HQ's answer as JSON.")
        var json = false
        @Option(help: "Most issues to print (the JSON has all HQ sent).")
        var limit = 200

        func run() async throws {
            try await reportingErrors {
                let agent = try await AgentConfig.load(path: config)
                let (hq, token) = try agent.requireHQ()
                let transport = try CurlTransport(settings: hq.transport)
                let url = "\(hq.url)/v1/dealers/\(agent.capture.node)/quality"
                let response: HTTPResponse
                do {
                    response = try await transport.send(HTTPRequest(method: "GET", url: url, headers: [("Authorization", "Bearer \(token)")]))
                } catch let error as TransportError {
                    throw CommandError(message: "cannot reach HQ at \(hq.url): \(error.message)", hint: error.hint)
                }
                guard response.status == 200 else {
                    throw CommandError(
                        message: "HQ answered \(response.status) to the quality request",
                        hint: response.status == 404
                            ? "HQ runs a release without data quality; upgrade HQ"
                            : "check hq.token is this store's (`dealersync hq add-dealer \(agent.capture.node)`)")
                }
                if json {
                    print(String(decoding: response.body, as: UTF8.self))
                    return
                }
                let quality = try JSONDecoder().decode(StoreQuality.self, from: Data(response.body))
                print(Self.text(quality, limit: limit))
            }
        }

        static func text(_ quality: StoreQuality, limit: Int) -> String {
            var lines = ["Data quality score \(percent(quality.score)); worst fields:"]
            for field in quality.fields.prefix(5) {
                lines.append("  \(field.table).\(field.column)  \(percent(field.validShare)) valid of \(field.rows) rows"
                    + " (\(field.missing) empty, \(field.invalid) invalid, \(field.shared) shared)"
                    + (field.description.map { "  — \($0)" } ?? ""))
            }
            if quality.issues.isEmpty {
                lines.append("No records to fix.")
            } else {
                lines.append("\(quality.issues.count) records to fix\(quality.issues.count > limit ? " (first \(limit); --json for all)" : ""):")
                for issue in quality.issues.prefix(limit) {
                    let key = issue.key.map { Self.display($0.value) }.joined(separator: ", ")
                    lines.append("  \(issue.table) [\(key)] \(issue.column): \(issue.hint)")
                }
            }
            return lines.joined(separator: "\n")
        }

        static func percent(_ share: Double) -> String { "\(Int((share * 100).rounded()))%" }

        /// A DMS key value as the store's staff would type it to find the record.
        static func display(_ value: SQLValue) -> String {
            switch value {
            case .null: "NULL"
            case .integer(let number): String(number)
            case .real(let number): String(number)
            case .text(let text): text
            case .blob(let bytes): "x'" + bytes.map { String($0, radix: 16).leftPadded(2) }.joined() + "'"
            }
        }
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
