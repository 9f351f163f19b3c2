import DealershipData
import Foundation
import GRDB
import HQServer
import SyncCore
import SyncTestSupport

/// HQ's store size per dealer per year (issue 16, docs/HQ-TABLES.md §5): a fleet pushes one
/// batch a dealer a day of a stated mix of generated dealership changes into an in-process
/// `SQLiteSyncStore` with HQ's SQL tables, on a simulated clock (`IngestBatch.receivedAtMillis`
/// and the rows' HLCs follow simulated days; nothing is waited for). One store runs a retention
/// pass (`applyRetention`, cutoff = simulated now − `feed_days`) after every simulated day;
/// the baseline store gets the same history and keeps everything (`feed_days: 0`).
///
/// Size = `hq.sqlite` + `hq.tables.sqlite` after `PRAGMA wal_checkpoint(TRUNCATE)`, measured on
/// three days; a year = size(last) + slope(between the last two) × the days left to 365.
/// "The data itself" = the live rows' DMS columns, `CREATE TABLE AS SELECT` from HQ's SQL
/// tables into a fresh file, VACUUMed (no indexes), projected the same way.
enum RetentionScenario {
    static let dayMillis: Int64 = 86_400_000
    static let hourMillis: Int64 = 3_600_000
    /// Midnight UTC before simulated day 1 (2025-11-23): HQ's clock starts here.
    static let start: Int64 = 1_763_856_000_000
    static let megabyte = 1_000_000.0

    /// One dealer's changes of one day.
    struct Mix {
        var newCustomers = 20
        var customerEdits = 40
        /// Of the day's new customers, how many bought a vehicle.
        var vehicles = 5
        var leads = 15
        var leadUpdates = 30
        /// Each with 1–4 service lines (2.5 on average).
        var serviceOrders = 10
        var customerDeletes = 1
        var leadDeletes = 1
        /// Edits and deletes pick among the customers and leads of the last this many days.
        var workingDays = 7

        /// Rows a day, the average service lines included.
        var nominalRows: Int {
            newCustomers + customerEdits + vehicles + leads + leadUpdates + serviceOrders * 7 / 2 + customerDeletes + leadDeletes
        }

        var description: String {
            "\(newCustomers) new customers (\(vehicles) buy a vehicle), \(customerEdits) customer edits, \(leads) new leads, "
                + "\(leadUpdates) lead updates, \(serviceOrders) service orders with 1–4 lines each, "
                + "\(customerDeletes) customer and \(leadDeletes) lead deleted: about \(nominalRows) rows"
        }
    }

    static func run(quick: Bool) async throws -> [Figure] {
        let started = now()
        let dealerCount = quick ? 10 : 400
        let measureDays = quick ? [3, 4, 5] : [30, 35, 40]
        let days = measureDays[measureDays.count - 1]
        let feedDays = quick ? 2 : 30
        let mix = Mix()
        let schema = try SyncSchema(yaml: DealerSchema.syncSchemaYAML)
        let limits = HQLimits()
        let shape = try dmsShape()

        var dealers = try (0..<dealerCount).map { try SimulatedDealer(index: $0, mix: mix) }
        let ids = dealers.map(\.id)
        let retained = try await HQRun(label: "bench-retention", dealers: ids, schema: schema, shape: shape)
        let kept = try await HQRun(label: "bench-retention-kept", dealers: ids, schema: schema, shape: shape)
        let retainedStore = retained.store
        let keptStore = kept.store
        progress("each dealer each day: \(mix.description)")
        progress("\(dealerCount) dealers × \(days) days; retention.feed_days \(feedDays), a pass after every day; baseline feed_days 0")

        var pushed = 0
        var retainedSizes: [Int] = []
        var keptSizes: [Int] = []
        var dataSizes: [Int] = []
        var liveRows = 0
        var removed = 0
        var purged = 0
        var lastReport: RetentionReport?
        for day in 1...days {
            let dayStart = start + Int64(day) * dayMillis
            for index in dealers.indices {
                let versions = try dealers[index].changes(of: mix, dayStart: dayStart)
                let first = dealers[index].sequence + 1
                dealers[index].sequence += UInt64(versions.count)
                // Pushes arrive from 18:00, a dealer every 5 s: after the day's writes (09:00–17:00).
                let batch = IngestBatch(
                    dealer: dealers[index].node, firstSequence: first, lastSequence: dealers[index].sequence,
                    sha256: "retention-\(dealers[index].id)-\(first)", compressedBytes: 0, versions: versions, schema: schema,
                    limits: limits, receivedAtMillis: dayStart + 18 * hourMillis + Int64(index) * 5_000, clockSkewMillis: nil)
                // The two stores are independent: they merge the same batch on two cores.
                async let one: Void = Self.ingest(batch, into: retainedStore)
                async let two: Void = Self.ingest(batch, into: keptStore)
                _ = try await (one, two)
                pushed += versions.count
            }
            let report = try await retainedStore.applyRetention(
                olderThanMillis: dayStart + 23 * hourMillis - Int64(feedDays) * dayMillis, schema: schema)
            removed += report.feedEntriesRemoved
            purged += report.tombstonesPurged
            lastReport = report
            var line = "day \(day)/\(days): \(pushed) rows into each store, \(Int(Double(pushed) / (now() - started))) rows/s; "
                + "retention pass: \(report.feedEntriesRemoved) feed entries removed, \(report.tombstonesPurged) deleted rows purged, "
                + "\(report.tombstonesWaiting) waiting"
            if measureDays.contains(day) {
                retainedSizes.append(try storeBytes(retained))
                keptSizes.append(try storeBytes(kept))
                let data = try dataBytes(tablesPath: retained.tablesPath, shape: shape, in: retained.directory)
                dataSizes.append(data.bytes)
                liveRows = data.rows
                line += String(
                    format: "; size: %.1f MB with the window, %.1f MB without, data %.1f MB (%d live rows)",
                    Double(retainedSizes.last!) / megabyte, Double(keptSizes.last!) / megabyte, Double(data.bytes) / megabyte, data.rows)
            }
            progress(line)
        }

        let retainedFeed = try await retainedStore.count("feed")
        let keptFeed = try await keptStore.count("feed")
        for store in [retainedStore, keptStore] {
            let dead = try await store.count("dead_letters")
            guard dead == 0 else { throw BenchError("retention: \(dead) rows were dead-lettered") }
        }
        let elapsed = now() - started

        /// Bytes after a year: the last size plus the growth between the last two measurements
        /// per day, for the days left to 365.
        func year(_ sizes: [Int]) -> Double {
            let last = Double(sizes[sizes.count - 1])
            let slope = (last - Double(sizes[sizes.count - 2])) / Double(measureDays[measureDays.count - 1] - measureDays[measureDays.count - 2])
            return last + slope * Double(365 - days)
        }
        func perDealerMB(_ bytes: Double) -> Double { bytes / Double(dealerCount) / megabyte }
        func measured(_ sizes: [Int]) -> String {
            zip(measureDays, sizes).map { String(format: "day %d %.1f", $0, perDealerMB(Double($1))) }.joined(separator: ", ")
        }
        let retainedYear = perDealerMB(year(retainedSizes))
        let keptYear = perDealerMB(year(keptSizes))
        let dataYear = perDealerMB(year(dataSizes))
        let rate = Double(pushed) / Double(dealerCount * days)
        let shapeText = "\(dealerCount) dealers × \(days) days projected to 365"
        return [
            Figure(
                scenario: "retention",
                metric: "HQ store (hq.sqlite + hq.tables.sqlite) per dealer per year, retention.feed_days \(feedDays) (\(shapeText); MB per dealer \(measured(retainedSizes)); baseline: the data itself, live rows' DMS columns VACUUMed, projected the same way)",
                value: retainedYear, unit: "MB", baseline: dataYear, goal: "", met: nil),
            Figure(
                scenario: "retention",
                metric: "same, feed_days 0: every change kept (MB per dealer \(measured(keptSizes)); baseline: the data itself)",
                value: keptYear, unit: "MB", baseline: dataYear, goal: "", met: nil),
            Figure(
                scenario: "retention", metric: "per dealer per year with feed_days \(feedDays) (baseline: feed_days 0, same history)",
                value: retainedYear, unit: "MB", baseline: keptYear, goal: "", met: nil),
            Figure(
                scenario: "retention", metric: "the data itself per dealer per year (MB per dealer \(measured(dataSizes)))",
                value: dataYear, unit: "MB", baseline: nil, goal: "", met: nil),
            Figure(
                scenario: "retention", metric: "daily change rate: rows pushed a dealer a day (\(mix.description); edits and deletes pick among earlier days' rows, so the first two days have fewer)",
                value: rate, unit: "rows/day", baseline: nil, goal: "", met: nil),
            Figure(
                scenario: "retention",
                metric: "live rows per dealer on day \(days) (a year at this rate: \(Int((Double(liveRows) / Double(dealerCount * days) * 365).rounded())))",
                value: Double(liveRows) / Double(dealerCount), unit: "rows", baseline: nil, goal: "", met: nil),
            Figure(
                scenario: "retention", metric: "feed entries per dealer on day \(days), feed_days \(feedDays) (baseline: feed_days 0)",
                value: Double(retainedFeed) / Double(dealerCount), unit: "entries", baseline: Double(keptFeed) / Double(dealerCount), goal: "", met: nil),
            Figure(
                scenario: "retention",
                metric: "deleted rows still waiting for a store's pull after the last pass (purged in all: \(purged); feed entries removed: \(removed))",
                value: Double(lastReport?.tombstonesWaiting ?? 0), unit: "rows", baseline: nil, goal: "", met: nil),
            Figure(
                scenario: "retention", metric: "elapsed: both stores, \(pushed) rows each, \(days) retention passes and the measurements",
                value: elapsed, unit: "s", baseline: nil, goal: "", met: nil),
        ]
    }

    /// Merges `batch` as a push does after its checks; every row must be taken.
    static func ingest(_ batch: IngestBatch, into store: SQLiteSyncStore) async throws {
        let outcome = try await store.ingest(batch)
        guard case .applied(_, let summary) = outcome else {
            throw BenchError("retention: \(batch.dealer)'s batch \(batch.firstSequence)-\(batch.lastSequence) was not applied")
        }
        guard summary.deadLetters == 0 else {
            throw BenchError(
                "retention: \(summary.deadLetters) rows of \(batch.dealer)'s batch were dead-lettered: \(summary.notices?.first?.reason ?? "")")
        }
    }

    // MARK: Stores and sizes

    /// An HQ store with its SQL tables, in a directory of its own; every dealer is a principal
    /// and has reported its DMS tables' shape, so HQ keeps a table for each.
    struct HQRun {
        let directory: TemporaryDirectory
        let storePath: String
        let tablesPath: String
        let store: SQLiteSyncStore

        init(label: String, dealers: [String], schema: SyncSchema, shape: ShapeReport) async throws {
            directory = TemporaryDirectory(label)
            storePath = directory.file("hq.sqlite")
            tablesPath = directory.file("hq.tables.sqlite")
            store = try SQLiteSyncStore(path: storePath, tables: (path: tablesPath, schema: schema))
            for id in dealers {
                _ = try await BenchHQ.addDealer(id, to: store)
                _ = try await store.recordShape(dealer: try NodeID(id), report: shape, schema: schema, atMillis: RetentionScenario.start)
            }
            guard let status = try await store.tablesStatus(), status.rows.count == shape.tables.count else {
                throw BenchError("retention: HQ did not create a SQL table for each of \(shape.tables.map(\.name))")
            }
        }
    }

    /// The DMS tables' shape as an agent reports it (columns and declared types, primary key).
    static func dmsShape() throws -> ShapeReport {
        let queue = try DatabaseQueue()
        try queue.write { db in try db.execute(sql: DealerSchema.dmsSQL) }
        let tables = try queue.read { db -> [ShapeReport.Table] in
            try ["customers", "vehicles", "leads", "service_orders", "service_lines"].map { table in
                let columns = try Row.fetchAll(db, sql: "SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid", arguments: [table])
                let key = columns.filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }.map { $0["name"] as String }
                return ShapeReport.Table(
                    name: table, key: key, columns: columns.map { ShapeReport.Column(name: $0["name"] as String, type: $0["type"] as String) })
            }
        }
        return ShapeReport(tables: tables)
    }

    /// Both files of a store after checkpointing their WALs into them.
    static func storeBytes(_ run: HQRun) throws -> Int {
        var total = 0
        for path in [run.storePath, run.tablesPath] {
            try checkpoint(path)
            total += try fileBytes(path) + fileBytes(path + "-wal")
        }
        return total
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)` through a connection of its own (the store's are idle
    /// between simulated days).
    static func checkpoint(_ path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        let busy = try queue.writeWithoutTransaction { db -> Int in
            guard let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") else { return 1 }
            return row[0]
        }
        guard busy == 0 else { throw BenchError("retention: PRAGMA wal_checkpoint(TRUNCATE) of \(path) was blocked") }
    }

    /// The live rows' DMS columns, from HQ's SQL tables into a fresh file, VACUUMed: its bytes
    /// and the rows it holds.
    static func dataBytes(tablesPath: String, shape: ShapeReport, in directory: TemporaryDirectory) throws -> (bytes: Int, rows: Int) {
        let path = directory.file("data.sqlite")
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let rows: Int
        do {
            let queue = try DatabaseQueue(path: path)
            rows = try queue.writeWithoutTransaction { db -> Int in
                try db.execute(sql: "ATTACH DATABASE ? AS source", arguments: [tablesPath])
                var count = 0
                for table in shape.tables {
                    let columns = table.columns.map { quote($0.name) }.joined(separator: ", ")
                    try db.execute(sql: "CREATE TABLE main.\(quote(table.name)) AS SELECT \(columns) FROM source.\(quote(table.name))")
                    count += try Int.fetchOne(db, sql: "SELECT count(*) FROM main.\(quote(table.name))") ?? 0
                }
                try db.execute(sql: "DETACH DATABASE source")
                try db.execute(sql: "VACUUM")
                return count
            }
        }
        return (try fileBytes(path), rows)
    }

    static func fileBytes(_ path: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        return Int(try handle.seekToEnd())
    }

    static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

/// One dealership's writes as its agent would push them: generated rows, each write with the
/// store's next dot and an HLC reading on the simulated clock. Keeps the recent customers and
/// leads as HQ has them (canonical bytes), so edits and deletes carry the full row state with
/// every earlier write, as an agent's do.
struct SimulatedDealer {
    let id: String
    let node: NodeID
    var data: DealershipGenerator
    var random: SeededGenerator
    var counter: UInt64 = 0
    var lastHLC: UInt64 = 0
    /// The last batch sequence pushed.
    var sequence: UInt64 = 0
    var lineID: Int64 = 0
    var customers: [[UInt8]] = []
    var leads: [[UInt8]] = []
    var vehicles: [DealershipGenerator.Vehicle] = []
    let customerCap: Int
    let leadCap: Int

    static let leadStates = ["new", "contacted", "test_drive", "quoted", "won", "lost"]

    init(index: Int, mix: RetentionScenario.Mix) throws {
        id = String(format: "DLR-R%04d", index)
        node = try NodeID(id)
        data = DealershipGenerator(seed: UInt64(16_000 + index), dealer: id)
        random = SeededGenerator(seed: UInt64(160_000 + index))
        customerCap = mix.newCustomers * mix.workingDays
        leadCap = mix.leads * mix.workingDays
    }

    /// The next dot, with an HLC reading at `wall` (never behind the last one).
    mutating func stamp(at wall: Int64) -> (dot: Dot, hlc: HLCTimestamp) {
        counter += 1
        lastHLC = max(lastHLC + 1, HLCTimestamp(physicalMillis: UInt64(wall), logical: 0).rawValue)
        return (Dot(node: node, counter: counter), HLCTimestamp(rawValue: lastHLC))
    }

    /// Distinct positions among `count`, at most `wanted`.
    static func picks(_ wanted: Int, of count: Int, using random: inout SeededGenerator) -> [Int] {
        Array((0..<count).shuffled(using: &random).prefix(wanted))
    }

    static func text(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }

    /// One day's changes, written between 09:00 and 17:00 of the day starting at `dayStart`:
    /// deletes and edits of earlier days' rows first, then the day's new rows.
    mutating func changes(of mix: RetentionScenario.Mix, dayStart: Int64) throws -> [RowVersion] {
        var rows: [RowVersion] = []
        rows.reserveCapacity(mix.nominalRows + 20)
        let opening = dayStart + 9 * RetentionScenario.hourMillis
        let step = 8 * RetentionScenario.hourMillis / Int64(mix.nominalRows + 20)

        for _ in 0..<mix.customerDeletes where !customers.isEmpty {
            let position = Int.random(in: 0..<customers.count, using: &random)
            var version = try RowVersion(canonicalBytes: customers.remove(at: position))
            let write = stamp(at: opening + Int64(rows.count) * step)
            version.delete(dot: write.dot, hlc: write.hlc)
            rows.append(version)
        }
        for _ in 0..<mix.leadDeletes where !leads.isEmpty {
            let position = Int.random(in: 0..<leads.count, using: &random)
            var version = try RowVersion(canonicalBytes: leads.remove(at: position))
            let write = stamp(at: opening + Int64(rows.count) * step)
            version.delete(dot: write.dot, hlc: write.hlc)
            rows.append(version)
        }
        for position in Self.picks(mix.customerEdits, of: customers.count, using: &random) {
            var version = try RowVersion(canonicalBytes: customers[position])
            let values = customerEdit()
            let write = stamp(at: opening + Int64(rows.count) * step)
            version.write(values, dot: write.dot, hlc: write.hlc)
            customers[position] = version.canonicalBytes
            rows.append(version)
        }
        for position in Self.picks(mix.leadUpdates, of: leads.count, using: &random) {
            var version = try RowVersion(canonicalBytes: leads[position])
            let state = Self.leadStates[Int.random(in: 0..<Self.leadStates.count, using: &random)]
            let write = stamp(at: opening + Int64(rows.count) * step)
            version.write(["state": .text(state)], dot: write.dot, hlc: write.hlc)
            leads[position] = version.canonicalBytes
            rows.append(version)
        }

        var newCustomers: [DealershipGenerator.Customer] = []
        for number in 0..<mix.newCustomers {
            let customer = data.customer()
            newCustomers.append(customer)
            let write = stamp(at: opening + Int64(rows.count) * step)
            let version = RowVersion.inserted(
                table: "customers", key: RowKey([.text(customer.id)]), values: Self.values(customer), dot: write.dot, hlc: write.hlc)
            rows.append(version)
            customers.append(version.canonicalBytes)
            if number < mix.vehicles {
                let vehicle = data.vehicle(for: customer)
                vehicles.append(vehicle)
                let write = stamp(at: opening + Int64(rows.count) * step)
                rows.append(RowVersion.inserted(
                    table: "vehicles", key: RowKey([.text(vehicle.vin)]), values: Self.values(vehicle), dot: write.dot, hlc: write.hlc))
            }
        }
        for number in 0..<mix.leads where !newCustomers.isEmpty {
            let lead = data.lead(for: newCustomers[number % newCustomers.count])
            let write = stamp(at: opening + Int64(rows.count) * step)
            let version = RowVersion.inserted(
                table: "leads", key: RowKey([.text(lead.id)]),
                values: [
                    "customer_id": .text(lead.customerID), "source": .text(lead.source), "state": .text(lead.state),
                    "assigned_dealer": .text(lead.assignedDealer), "model": .text(lead.model),
                ],
                dot: write.dot, hlc: write.hlc)
            rows.append(version)
            leads.append(version.canonicalBytes)
        }
        for _ in 0..<mix.serviceOrders where !vehicles.isEmpty {
            let vehicle = vehicles[Int.random(in: 0..<vehicles.count, using: &random)]
            let order = data.serviceOrder(for: vehicle)
            let write = stamp(at: opening + Int64(rows.count) * step)
            rows.append(RowVersion.inserted(
                table: "service_orders", key: RowKey([.text(order.id)]),
                values: ["vin": .text(order.vin), "opened_on": .text(order.openedOn), "status": .text(order.status)],
                dot: write.dot, hlc: write.hlc))
            for line in order.lines {
                lineID += 1
                let write = stamp(at: opening + Int64(rows.count) * step)
                rows.append(RowVersion.inserted(
                    table: "service_lines", key: RowKey([.integer(lineID)]),
                    values: [
                        "order_id": .text(order.id), "item": .text(line.item), "quantity": .integer(Int64(line.quantity)),
                        "price": .real(line.price),
                    ],
                    dot: write.dot, hlc: write.hlc))
            }
        }

        if customers.count > customerCap { customers.removeFirst(customers.count - customerCap) }
        if leads.count > leadCap { leads.removeFirst(leads.count - leadCap) }
        if vehicles.count > 50 { vehicles.removeFirst(vehicles.count - 50) }
        return rows
    }

    /// What a store's staff change on a customer: one of a new mobile, a new address, remarks
    /// and occupation, email and WeChat, or a sales note.
    mutating func customerEdit() -> [String: SQLValue] {
        let fresh = data.customer()
        switch Int.random(in: 0..<5, using: &random) {
        case 0: return ["mobile": Self.text(fresh.mobile)]
        case 1: return ["address": Self.text(fresh.address)]
        case 2: return ["remarks": .text(fresh.remarks ?? "周末方便联系"), "occupation": Self.text(fresh.occupation)]
        case 3: return ["email": Self.text(fresh.email), "wechat": Self.text(fresh.wechat)]
        default:
            let visit = data.date(fromYear: 2026, toYear: 2026)
            return ["sales_notes": .text("\(visit) 到店看车，来源：\(fresh.source)，职业：\(fresh.occupation ?? "未知")")]
        }
    }

    /// Every column but the key, as the agent sends a new row (NULLs included).
    static func values(_ customer: DealershipGenerator.Customer) -> [String: SQLValue] {
        [
            "name": .text(customer.name), "mobile": text(customer.mobile), "birth_date": text(customer.birthDate),
            "address": text(customer.address), "customer_class": .text(customer.customerClass), "home_dealer": .text(customer.homeDealer),
            "sales_notes": .null, "gender": .text(customer.gender), "email": text(customer.email), "wechat": text(customer.wechat),
            "occupation": text(customer.occupation), "source": .text(customer.source), "created_at": .text(customer.createdAt),
            "remarks": text(customer.remarks),
        ]
    }

    static func values(_ vehicle: DealershipGenerator.Vehicle) -> [String: SQLValue] {
        [
            "customer_id": .text(vehicle.customerID), "model": .text(vehicle.model), "plate": text(vehicle.plate),
            "sold_on": text(vehicle.soldOn), "color": .text(vehicle.color), "engine_number": .text(vehicle.engineNumber),
            "mileage_km": .integer(Int64(vehicle.mileageKm)), "insurance_expiry": text(vehicle.insuranceExpiry),
        ]
    }
}
