import ArgumentParser
import Foundation
import HQServer
import SyncCore

/// `dealersync hq customers …`: one customer across stores (docs/IDENTITY.md), from the
/// store files, HQ running or not. Every look at a customer is recorded like an API lookup,
/// as `cli:<user>`.
struct HQCustomersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers",
        abstract: "Find customers across stores, link or split records, and see who looked whom up.",
        discussion: """
            HQ links the stores' customer records into people as rows merge (the sync
            schema's identity: section). Examples:
              dealersync hq customers status --config hq.yaml
              dealersync hq customers find --mobile 13957290318 --config hq.yaml
              dealersync hq customers show GC-0000000042 --config hq.yaml
              dealersync hq customers split '["C-1"]' '["C-9"]' --config hq.yaml
              dealersync hq customers link '["C-1"]' '["C-9"]' --config hq.yaml
              dealersync hq customers lookups --who crm --config hq.yaml
            """,
        subcommands: [Status.self, Find.self, Show.self, Link.self, Split.self, Lookups.self])

    /// The store with HQ's tables, where identity lives.
    static func store(_ options: HQOptions) async throws -> (SQLiteSyncStore, HQConfig) {
        let config = try await options.loadConfig()
        guard config.schema.identity != nil else {
            throw CommandError("the sync schema has no identity: section", hint: "add one (docs/IDENTITY.md) and restart `dealersync hq serve`")
        }
        guard let tablesPath = config.tablesPath, FileManager.default.fileExists(atPath: tablesPath) else {
            throw CommandError(
                "HQ keeps no SQL tables yet, where customer links live (store.tables_path)",
                hint: "start `dealersync hq serve` once with store.tables_path on (the default)")
        }
        return (try SQLiteSyncStore(path: try await options.storePath(), tables: (tablesPath, config.schema)), config)
    }

    static var operatorName: String { "cli:" + (ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown") }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "How far linking is behind ingest, and what it found.")
        @OptionGroup var options: HQOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let (store, _) = try await HQCustomersCommand.store(options)
                guard let status = try await store.identityStatus() else { return }
                if json { return try printJSON(status) }
                Swift.print("""
                    linked up to sequence \(status.linkedSequence) of \(status.latestSequence) (\(status.pendingRows) rows waiting)
                    \(status.records) store records, \(status.people) people, \(status.peopleAtSeveralStores) known at several stores
                    links: \(status.links.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); splits: \(status.splits)
                    """)
            }
        }
    }

    struct Find: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Find people by mobile, resident ID number or VIN (the lookup is recorded).")
        @OptionGroup var options: HQOptions
        @Option var mobile: String?
        @Option(name: .customLong("id-number")) var idNumber: String?
        @Option var vin: String?

        func validate() throws {
            guard [mobile, idNumber, vin].compactMap({ $0 }).count == 1 else { throw ValidationError("give exactly one of --mobile, --id-number or --vin") }
        }

        func run() async throws {
            try await reportingErrors {
                let (store, _) = try await HQCustomersCommand.store(options)
                let query = CustomerQuery(kind: mobile != nil ? .mobile : idNumber != nil ? .idNumber : .vin, value: mobile ?? idNumber ?? vin ?? "")
                guard query.normalized != nil else {
                    throw CommandError("the \(query.kind.rawValue) is not valid, or is a placeholder that identifies nobody", hint: "check the digits")
                }
                let ids = try await store.findCustomers(query)
                for id in ids {
                    let customer = try await store.customer(id: id)
                    try await store.recordLookup(CustomerLookup(
                        atMillis: Int64(Date().timeIntervalSince1970 * 1000), who: HQCustomersCommand.operatorName, kind: "reader",
                        queryKind: query.kind.rawValue, person: id, records: customer?.records.count ?? 0))
                    Swift.print("\(id)  \(customer?.records.count ?? 0) records at \(Set(customer?.records.map(\.dealer) ?? []).sorted().joined(separator: ", "))"
                        + "  responsible: \(customer?.responsibleDealer ?? "-")")
                }
                if ids.isEmpty { Swift.print("no customer found") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one person as JSON: golden record, store records, vehicles, history, links.")
        @OptionGroup var options: HQOptions
        @Argument(help: "The global customer id (GC-…).") var id: String

        func run() async throws {
            try await reportingErrors {
                let (store, _) = try await HQCustomersCommand.store(options)
                guard let customer = try await store.customer(id: id) else {
                    throw CommandError("no customer \(id)", hint: "find the id with `dealersync hq customers find --mobile …`")
                }
                try await store.recordLookup(CustomerLookup(
                    atMillis: Int64(Date().timeIntervalSince1970 * 1000), who: HQCustomersCommand.operatorName, kind: "reader", queryKind: "id",
                    person: id, records: customer.records.count))
                try printJSON(customer)
            }
        }
    }

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Link two customer records by hand: one person from now on.")
        @OptionGroup var options: HQOptions
        @Argument(help: #"The first record's key as a JSON array, e.g. '["C-1"]'."#) var a: String
        @Argument(help: "The second record's key.") var b: String

        func run() async throws {
            try await reportingErrors { try await HQCustomersCommand.change(.link, a, b, options) }
        }
    }

    struct Split: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Split two customer records: different people, which the rules never link again.")
        @OptionGroup var options: HQOptions
        @Argument(help: #"The first record's key as a JSON array, e.g. '["C-1"]'."#) var a: String
        @Argument(help: "The second record's key.") var b: String

        func run() async throws {
            try await reportingErrors { try await HQCustomersCommand.change(.split, a, b, options) }
        }
    }

    static func change(_ change: LinkChange, _ a: String, _ b: String, _ options: HQOptions) async throws {
        func key(_ json: String) throws -> RowKey {
            guard let values = try? JSONDecoder().decode([TypedValue].self, from: Data(json.utf8)), !values.isEmpty else {
                throw CommandError("'\(json)' is not a key", hint: #"write the record's key as a JSON array, like '["C-1"]'"#)
            }
            return RowKey(values.map(\.value))
        }
        let (store, _) = try await Self.store(options)
        do {
            let (x, y) = try await store.changeLink(change, try key(a), try key(b), by: Self.operatorName)
            Swift.print(change == .link ? "linked: both records are \(x)" : "split: the records are \(x) and \(y)")
        } catch let error as StoreError {
            throw CommandError(error.message, hint: error.hint)
        }
    }

    struct Lookups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Who looked which customer up, and when (newest first).")
        @OptionGroup var options: HQOptions
        @Option(help: "Only this reader, dealer or cli:user.") var who: String?
        @Option(help: "Most entries to print.") var limit = 100
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let (store, _) = try await HQCustomersCommand.store(options)
                let log = try await store.lookupLog(limit: limit, who: who)
                if json { return try printJSON(log) }
                let formatter = ISO8601DateFormatter()
                for entry in log {
                    let at = formatter.string(from: Date(timeIntervalSince1970: Double(entry.atMillis) / 1000))
                    Swift.print("\(at)  \(entry.who) (\(entry.kind))  by \(entry.queryKind)  \(entry.person ?? "nobody found")  \(entry.records) records")
                }
                if log.isEmpty { Swift.print("no lookups recorded") }
            }
        }
    }
}
