import ArgumentParser
import Foundation
import GRDB
import HQServer
import SQLiteValues
import SyncAgent
import SyncCapture
import SyncCore

extension DealerSync {
    /// `dealersync lookup --mobile …`: at the counter, what other stores know of a customer
    /// (docs/IDENTITY.md), asked from HQ and written into the DMS database for the DMS to show.
    struct Lookup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lookup",
            abstract: "Ask HQ what other stores know of a customer (counter lookup).",
            discussion: """
                Give one of --mobile, --id-number or --vin, typed as the customer gives it. HQ
                finds the person across the network and answers with their records, vehicles,
                orders and leads at other stores, only the columns the sync schema's
                identity.counter allows. HQ records every lookup, and limits how many a store
                makes an hour.

                The answer is printed and written into the DMS database, table
                _dealersync_counter_history (one row per record, values as JSON), so the DMS
                can show it; a lookup of the same person replaces their earlier rows.

                Examples:
                  dealersync lookup --mobile "139 5729 0318" --config /etc/dealersync/agent.yaml
                  dealersync lookup --vin LSVAU218XN2183294 --config agent.yaml --json
                """)

        @Option(name: .long, help: "The agent's YAML config file.")
        var config: String
        @Option(help: "The customer's mobile number.")
        var mobile: String?
        @Option(name: .customLong("id-number"), help: "The customer's resident ID number.")
        var idNumber: String?
        @Option(help: "A VIN of the customer's vehicle.")
        var vin: String?
        @Flag(help: "Print HQ's answer as JSON.")
        var json = false

        func validate() throws {
            guard [mobile, idNumber, vin].compactMap({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --mobile, --id-number or --vin")
            }
        }

        func run() async throws {
            try await reportingErrors {
                let agent = try await AgentConfig.load(path: config)
                let (hq, token) = try agent.requireHQ()
                let field = mobile != nil ? "mobile" : idNumber != nil ? "id_number" : "vin"
                let body = try JSONEncoder().encode([field: try Self.asHQHoldsIt(field, mobile ?? idNumber ?? vin ?? "", agent: agent)])
                let transport = try CurlTransport(settings: hq.transport)
                let response: HTTPResponse
                do {
                    response = try await transport.send(HTTPRequest(
                        method: "POST", url: "\(hq.url)/v1/dealers/\(agent.capture.node)/lookups",
                        headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: Array(body)))
                } catch let error as TransportError {
                    throw CommandError(message: "cannot reach HQ at \(hq.url): \(error.message)", hint: error.hint)
                }
                guard response.status == 200 else { throw Self.refusal(response, node: agent.capture.node) }
                let found = try JSONDecoder().decode(CustomerController<SQLiteSyncStore>.Found.self, from: Data(response.body))
                let written = try Self.write(found.customers, into: agent.capture.databasePath)
                if json {
                    print(String(decoding: response.body, as: UTF8.self))
                } else {
                    print(Self.text(found.customers, written: written, path: agent.capture.databasePath))
                }
            }
        }

        /// The value as HQ holds it: hashed with the fleet's key when the schema hashes the
        /// column identity links by (docs/PRIVACY.md), so HQ can find it without seeing it.
        static func asHQHoldsIt(_ field: String, _ value: String, agent: AgentConfig) throws -> String {
            let database = try DealerDatabase(settings: agent.capture)
            guard let schema = try database.installedSchema(), let people = schema.identity?.people,
                let column = field == "mobile" ? people.mobile : field == "id_number" ? people.idNumber : nil,
                schema.table(named: people.table)?.hashedColumns.contains(column) == true
            else { return value }
            guard let key = agent.capture.hashKey, case .text(let hashed) = HashedForm.of(.text(value), key: key) else {
                throw CommandError(
                    message: "the sync schema hashes \(people.table).\(column), and this agent has no hash key",
                    hint: "set `hash_key_file` in agent.yaml to the fleet's key file (docs/PRIVACY.md)")
            }
            return hashed
        }

        /// HQ's error body, with what to try.
        static func refusal(_ response: HTTPResponse, node: String) -> CommandError {
            struct Body: Decodable { var error: String; var hint: String }
            let body = try? JSONDecoder().decode(Body.self, from: Data(response.body))
            switch response.status {
            case 404 where body == nil:
                return CommandError(message: "HQ answered 404 to the lookup", hint: "HQ runs a release without customer identity; upgrade HQ")
            case 401, 403:
                return CommandError(
                    message: "HQ refused the lookup (\(response.status)): \(body?.error ?? "")",
                    hint: "check hq.token is this store's (`dealersync hq add-dealer \(node)`)")
            default:
                return CommandError(message: "HQ answered \(response.status): \(body?.error ?? "no details")", hint: body?.hint ?? "try again later")
            }
        }

        /// Writes the records into `_dealersync_counter_history` of the DMS database, replacing
        /// earlier rows of the same people, in one transaction. Returns the rows written.
        static func write(_ customers: [CustomerHistory], into path: String) throws -> Int {
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            let dms = try DatabaseQueue(path: path, configuration: configuration)
            let now = ISO8601DateFormatter().string(from: Date())
            return try dms.write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS _dealersync_counter_history (
                        global_id TEXT NOT NULL, table_name TEXT NOT NULL, dealer TEXT NOT NULL, key_json TEXT NOT NULL,
                        values_json TEXT NOT NULL, looked_up_at TEXT NOT NULL, PRIMARY KEY (global_id, table_name, dealer, key_json))
                    """)
                var rows = 0
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                for customer in customers {
                    try db.execute(sql: "DELETE FROM _dealersync_counter_history WHERE global_id = ?", arguments: [customer.id])
                    for record in customer.records + customer.vehicles + customer.history {
                        try db.execute(
                            sql: """
                                INSERT OR REPLACE INTO _dealersync_counter_history (global_id, table_name, dealer, key_json, values_json, looked_up_at)
                                VALUES (?, ?, ?, ?, ?, ?)
                                """,
                            arguments: [
                                customer.id, record.table, record.dealer, String(decoding: try encoder.encode(record.key), as: UTF8.self),
                                String(decoding: try encoder.encode(record.values), as: UTF8.self), now,
                            ])
                        rows += 1
                    }
                }
                return rows
            }
        }

        static func text(_ customers: [CustomerHistory], written: Int, path: String) -> String {
            guard !customers.isEmpty else { return "No other store knows this customer." }
            var lines: [String] = []
            for customer in customers {
                let stores = Set((customer.records + customer.vehicles + customer.history).map(\.dealer)).sorted()
                lines.append("Customer \(customer.id): known at \(stores.isEmpty ? "no other store" : stores.joined(separator: ", "))"
                    + (customer.responsibleDealer.map { " (responsible store: \($0))" } ?? ""))
                for record in customer.records + customer.vehicles + customer.history {
                    let key = record.key.map { Quality.display($0.value) }.joined(separator: ", ")
                    let values = record.values.sorted { $0.key < $1.key }.map { "\($0.key)=\(Quality.display($0.value.value))" }.joined(separator: " ")
                    lines.append("  \(record.dealer)  \(record.table) [\(key)] \(values)")
                }
            }
            lines.append("Written to \(path), table _dealersync_counter_history (\(written) rows).")
            return lines.joined(separator: "\n")
        }
    }
}
