import ArgumentParser
import Foundation
import SyncCore
import HQServer

/// `dealersync hq status [--json]`: the fleet from the store file, server running or not.
struct HQStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show each dealer's last contact, backlog, skew, dead letters and conflicts.")

    @Flag(help: "Print JSON instead of a table.")
    var json = false
    @OptionGroup var options: HQOptions

    func run() async throws {
        try await reportingErrors {
            let config = options.config == nil ? nil : try await options.loadConfig()
            let schema = config?.schema
            let storePath = try await options.storePath()
            // With --store, the tables are the ones beside that store. Status shows them when
            // they exist and never creates them.
            let tablesPath = options.store == nil ? config?.tablesPath : HQConfig.defaultTablesPath(storePath: storePath)
            let tables = config.flatMap { config in
                tablesPath.flatMap { FileManager.default.fileExists(atPath: $0) ? ($0, config.schema) : nil }
            }
            let store = try SQLiteSyncStore(path: storePath, tables: tables)
            let silentAfter = Int64(config?.silentAfterSeconds ?? HQConfig.defaultSilentAfterSeconds) * 1000
            let now = Date.nowMillis
            let status = FleetStatus(
                feedSequence: try await store.latestSequence(),
                dealers: try await store.status(schema: schema ?? .init(version: 1, tables: [])).map { dealer in
                    var dealer = dealer
                    dealer.silent = dealer.isSilent(nowMillis: now, afterMillis: silentAfter)
                    return dealer
                },
                tables: try await store.tablesStatus(),
                retention: try await store.retentionStatus(feedDays: config?.retention.feedDays ?? 0, schema: schema ?? .init(version: 1, tables: [])),
                identity: try await store.identityStatus())
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try encoder.encode(status), as: UTF8.self))
            } else {
                print(Self.table(status, backlogKnown: schema != nil))
            }
        }
    }

    /// `ok`, `ok, gap 2026-12-03T06:36:53Z` (repaired since), `REPAIRING 1 table since …`,
    /// `OFF 2 tables since …`, or `?` for an agent that does not report it.
    static func capture(_ report: CaptureReport?, formatter: ISO8601DateFormatter) -> String {
        guard let report else { return "?" }
        let gap = report.lastGapMillis.map { formatter.string(from: Date(timeIntervalSince1970: Double($0) / 1000)) }
        switch report.state {
        case .ok: return gap.map { "ok, gap \($0)" } ?? "ok"
        case .repairing, .off:
            let tables = "\(report.tables) table\(report.tables == 1 ? "" : "s")"
            return "\(report.state.rawValue.uppercased()) \(tables)" + (gap.map { " since \($0)" } ?? "")
        }
    }

    /// Release, pending, outbox, held, free disk and last error, `?` for an agent too old to report.
    static func health(_ report: StoreHealthReport?) -> [String] {
        guard let report else { return Array(repeating: "?", count: 6) }
        let disk: String = report.freeDiskMB.map { "\($0) MiB" } ?? "?"
        return [report.agentVersion, String(report.pendingChanges), String(report.outboxRows), String(report.heldRows), disk, report.lastError ?? "-"]
    }

    /// The version the agent runs, with the one its group is assigned when they differ
    /// (`1 (to 2)` while a rollout reaches it); `?` before the agent reported one.
    static func schema(_ dealer: DealerStatus) -> String {
        guard let running = dealer.schemaRunning else { return "?" }
        guard let assigned = dealer.schemaAssigned, assigned != running else { return String(running) }
        return "\(running) (to \(assigned))"
    }

    static func table(_ status: FleetStatus, backlogKnown: Bool) -> String {
        let header = [
            "DEALER", "NAME", "GROUP", "SCHEMA", "STATE", "LAST SEEN (UTC)", "LAST BATCH", "BATCHES", "BACKLOG", "SKEW ms", "DEAD", "CONFLICTS", "CAPTURE", "AGENT",
            "PENDING", "OUTBOX", "HELD", "DISK FREE", "LAST ERROR",
        ]
        let formatter = ISO8601DateFormatter()
        let rows = status.dealers.map { dealer in
            [
                dealer.id, dealer.name ?? "-", dealer.group, Self.schema(dealer), dealer.revoked ? "revoked" : dealer.silent ? "SILENT" : "active",
                dealer.lastSeenMillis.map { formatter.string(from: Date(timeIntervalSince1970: Double($0) / 1000)) } ?? "never",
                dealer.lastBatch ?? "-", String(dealer.batches), backlogKnown ? String(dealer.backlog) : "?",
                dealer.clockSkewMillis.map(String.init) ?? "-", String(dealer.deadLetters), String(dealer.conflicts),
                Self.capture(dealer.capture, formatter: formatter),
            ] + Self.health(dealer.health)
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var lines = ["feed sequence: \(status.feedSequence)", line(header)] + rows.map(line)
        if status.dealers.isEmpty { lines.append("(no dealers yet; add one with `dealersync hq add-dealer ID`)") }
        if !backlogKnown { lines.append("(backlog needs the sync schema: pass --config hq.yaml)") }
        if let tables = status.tables {
            lines.append("SQL tables: \(tables.path), up to feed sequence \(tables.feedSequence); " + tables.rows.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) rows" }.joined(separator: ", ")
                + (tables.filling.isEmpty ? "" : "; filling \(tables.filling.joined(separator: ", "))"))
        }
        if let identity = status.identity {
            lines.append("Customers: \(identity.people) people from \(identity.records) store records, \(identity.peopleAtSeveralStores) at several stores; "
                + "linking \(identity.pendingRows == 0 ? "caught up" : "\(identity.pendingRows) rows behind") (sequence \(identity.linkedSequence) of \(identity.latestSequence))")
        }
        if let retention = status.retention, retention.feedHorizon > 0 || retention.tombstones > 0 {
            lines.append("Feed: compacted up to sequence \(retention.feedHorizon) (feed_days \(retention.feedDays)); \(retention.tombstones) deleted rows wait for a store's pull"
                + (retention.tombstonesWaitingOn.isEmpty ? "" : " (" + retention.tombstonesWaitingOn.prefix(5).joined(separator: ", ") + ")"))
        }
        return lines.joined(separator: "\n")
    }
}
