import Foundation
import GRDB
import HQServer
import Hummingbird
import Logging
import ServiceLifecycle
import SyncAgent
import SyncCapture
import SyncCore
import DealershipData

/// `dealersync demo`: HQ on loopback with an embedded SQLite store, three dealer DMS
/// databases full of generated dealership data, three agents over real HTTP through
/// libcurl, concurrent edits of one customer at two stores and at HQ, a hot lead from HQ to
/// one store and its outcome back — ending with every store's digest equal to HQ's.
///
/// Customer names and mobile numbers are masked in the output, as in every log line.
public final class Demo {
    public struct Options: Sendable {
        public var directory: String
        public var customersPerStore = 60
        public var seed: UInt64 = 2026
        public init(directory: String) { self.directory = directory }
    }

    static let stores = [("DLR-SH01", "上海浦东店"), ("DLR-BJ02", "北京朝阳店"), ("DLR-GZ03", "广州天河店")]

    let options: Options
    let say: (String) -> Void
    let schema = try! SyncSchema(yaml: DealerSchema.syncSchemaYAML)
    var tokens: [String: String] = [:]
    var databases: [String: DealerDatabase] = [:]
    var dms: [String: DatabaseQueue] = [:]
    var baseURL = ""
    let transport: CurlTransport
    var quiet: Logger {
        var logger = Logger(label: "dealersync.demo")
        logger.logLevel = .critical
        return logger
    }

    public init(options: Options, output: @escaping (String) -> Void) throws {
        self.options = options
        self.say = output
        transport = try CurlTransport(settings: TransportSettings(connectTimeoutMillis: 3_000))
    }

    /// Runs the whole demo; true when every store converged with HQ.
    public func run() async throws -> Bool {
        let storePath = options.directory + "/hq.sqlite"
        let tablesPath = options.directory + "/hq.tables.sqlite"
        let store = try SQLiteSyncStore(path: storePath, tables: (tablesPath, schema))
        for id in Self.stores.map(\.0) + ["crm"] {
            let token = Tokens.generate()
            try await store.addPrincipal(NewPrincipal(
                id: id, name: id == "crm" ? "HQ CRM" : Self.stores.first { $0.0 == id }?.1, kind: id == "crm" ? .writer : .dealer,
                tokenSHA256: Tokens.sha256(of: token), createdAtMillis: Self.now()))
            tokens[id] = token
        }
        let port = try LoopbackPort.free()
        baseURL = "http://127.0.0.1:\(port)"
        let app = buildApplication(
            HQConfig(host: "127.0.0.1", port: port, storePath: storePath, tablesPath: tablesPath, schema: schema), store: store, logger: quiet)
        let group = ServiceGroup(services: [app], logger: quiet)
        let server = Task { try await group.run() }
        defer { server.cancel() }
        try await waitForHQ()
        say("1. HQ listens on \(baseURL), store \(storePath)")

        try createStores()
        let converged = try await story(store: store)
        await group.triggerGracefulShutdown()
        _ = try? await server.value
        return converged
    }

    private func story(store: SQLiteSyncStore) async throws -> Bool {
        let first = try await settle()
        let hqRows = try await store.count("rows")
        say("3. Three agents ran \(first.rounds) sync rounds: \(first.pushed) rows pushed, HQ now holds \(hqRows) rows")

        // HQ moves a Shanghai customer to Beijing: both stores hold her from now on.
        let shanghai = dms["DLR-SH01"]!
        let customer = try await shanghai.read { db in try Row.fetchOne(db, sql: "SELECT id, name FROM customers ORDER BY rowid LIMIT 1")! }
        let id: String = customer["id"]
        let name = Self.mask(customer["name"])
        try await hqWrite(#"{"table":"customers","key":["\#(id)"],"values":{"home_dealer":"DLR-BJ02"}}"#)
        _ = try await settle()
        say("4. HQ moved customer \(name) from DLR-SH01 to DLR-BJ02; both stores now hold her")

        // Three concurrent edits of the same customer before anyone syncs.
        try await shanghai.write { db in try db.execute(sql: "UPDATE customers SET mobile = '13911112222' WHERE id = ?", arguments: [id]) }
        try await dms["DLR-BJ02"]!.write { db in
            try db.execute(sql: "UPDATE customers SET mobile = '13933334444', address = '北京市朝阳区建国路88号', customer_class = '金卡' WHERE id = ?", arguments: [id])
        }
        try await hqWrite(#"{"table":"customers","key":["\#(id)"],"values":{"customer_class":"VIP"}}"#)
        say("5. Concurrently: DLR-SH01 and DLR-BJ02 both changed \(name)'s mobile, DLR-BJ02 her address and class, HQ her class (HQ owns customer_class)")
        _ = try await settle()
        var views: [Row] = []
        for store in Self.stores.prefix(2) {
            let row = try await dms[store.0]!.read { db in
                try Row.fetchOne(db, sql: "SELECT mobile, customer_class, address FROM customers WHERE id = ?", arguments: [id])!
            }
            views.append(row)
        }
        let same = views[0] == views[1]
        say("   \(same ? "both stores now show" : "STORES DIFFER:") mobile \(Self.maskMobile(views[0]["mobile"])), class \(views[0]["customer_class"] as String? ?? "-"), DLR-BJ02's new address")
        let overruled = try databases["DLR-BJ02"]!.status().overruledByHQ
        say("   DLR-BJ02's class change did not count: a store cannot write a column HQ owns; HQ kept its value and told the store (status: \(overruled) row with columns HQ kept)")

        // A hot lead from HQ to Guangzhou, and its outcome back.
        let lead = "LEAD-\(options.seed)-001"
        try await hqWrite(#"{"table":"leads","key":["\#(lead)"],"values":{"customer_id":"\#(id)","source":"厂家下发","state":"new","assigned_dealer":"DLR-GZ03","model":"汉EV"}}"#)
        _ = try await settle()
        let arrived = try await dms["DLR-GZ03"]!.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE id = ?", arguments: [lead]) ?? 0 }
        let elsewhere = try await dms["DLR-SH01"]!.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM leads WHERE id = ?", arguments: [lead]) ?? 0 }
        say("6. HQ sent hot lead \(lead) to DLR-GZ03: \(arrived == 1 ? "arrived" : "MISSING") there, \(elsewhere == 0 ? "not" : "ALSO") at DLR-SH01")
        for state in ["contacted", "test_drive", "won"] {
            try await dms["DLR-GZ03"]!.write { db in try db.execute(sql: "UPDATE leads SET state = ? WHERE id = ?", arguments: [state, lead]) }
            _ = try await settle()
        }
        let outcome = try await feedState(of: lead)
        say("   DLR-GZ03 worked it: contacted → test_drive → won; HQ's feed now says \(outcome ?? "nothing")")

        say("7. Digests (store = HQ's copy of the same rows):")
        var converged = arrived == 1 && elsewhere == 0 && outcome == "won"
        for (id, label) in Self.stores {
            let pair = try await ConvergenceDigest.compare(databases[id]!, with: store, schema: schema)
            converged = converged && pair.converged
            say("   \(id) \(label)  \(pair.rows) rows  \(pair.store.prefix(16)) \(pair.converged ? "=" : "≠") HQ \(pair.hq.prefix(16))")
        }
        var seen = Set<String>()
        var lines: [String] = []
        for store in Self.stores.map(\.0) {
            for conflict in try databases[store]!.conflicts() where seen.insert("\(conflict.table)|\(conflict.column ?? "")|\(conflict.winner)").inserted {
                lines.append("   \(conflict.table).\(conflict.column ?? "(row)"): \(conflict.reason), \(conflict.winner) won over \(conflict.losers.joined(separator: ", "))")
            }
        }
        say("8. Conflicts decided (the same way at every node, both values kept in _dealersync_conflicts):")
        lines.forEach(say)
        try tablesQuery()
        try await qualityScores(store: store)
        let linked = try await oneCustomer(store: store)
        return converged && linked
    }

    /// Step 11: the same person typed in at two stores is one customer at HQ (docs/IDENTITY.md),
    /// and a third store looks them up at its counter. True when both worked.
    private func oneCustomer(store: SQLiteSyncStore) async throws -> Bool {
        let shanghai = try await dms["DLR-SH01"]!.read { db in
            try Row.fetchOne(
                db, sql: "SELECT id, name, mobile, id_number FROM customers WHERE home_dealer = 'DLR-SH01' AND mobile <> '13800138000' ORDER BY rowid DESC LIMIT 1")!
        }
        let name: String = shanghai["name"], mobile: String = shanghai["mobile"]
        let spaced = "+86 \(mobile.prefix(3)) \(mobile.dropFirst(3).prefix(4)) \(mobile.suffix(4))"
        // The customer walks into the Beijing store, which types them its own way.
        let walkIn = "BJ-WALKIN-\(options.seed)"
        try await dms["DLR-BJ02"]!.write { db in
            try db.execute(
                sql: "INSERT INTO customers (id, name, mobile, home_dealer, customer_class, source) VALUES (?, ?, ?, 'DLR-BJ02', 'B', '展厅到店')",
                arguments: [walkIn, String(name.prefix(1)) + " " + String(name.dropFirst()), spaced])
        }
        _ = try await settle()
        while try await store.linkIdentities(chunk: 2_000) > 0 {}
        let ids = try await store.findCustomers(CustomerQuery(kind: .mobile, value: mobile))
        guard ids.count == 1, let id = ids.first, let customer = try await store.customer(id: id) else {
            say("11. LINKING FAILED: the customer typed at DLR-SH01 and DLR-BJ02 is \(ids.count) people at HQ")
            return false
        }
        let rules = Set(customer.links.map(\.rule)).sorted().joined(separator: ", ")
        say("11. One customer at two stores: \(Self.mask(name)) typed at DLR-SH01 and (as \"\(Self.mask(String(name.prefix(1)) + " " + String(name.dropFirst())))\", +86 …) at DLR-BJ02 is one person at HQ, \(id)")
        say("    linked by \(rules); golden record mobile \(Self.maskMobile(customer.golden["mobile"].flatMap { if case .text(let m) = $0.value { m } else { nil } })), responsible store \(customer.responsibleDealer ?? "-"), \(customer.vehicles.count) vehicle(s), \(customer.history.count) lead/order row(s)")
        // A salesperson in Guangzhou asks HQ at the counter.
        let response = try await transport.send(SyncAgent.HTTPRequest(
            method: "POST", url: baseURL + "/v1/dealers/DLR-GZ03/lookups",
            headers: [("Authorization", "Bearer \(tokens["DLR-GZ03"]!)"), ("Content-Type", "application/json")],
            body: Array(#"{"mobile": "\#(spaced)"}"#.utf8)))
        guard response.status == 200,
            let found = try? JSONDecoder().decode(CustomerController<SQLiteSyncStore>.Found.self, from: Data(response.body)), let seen = found.customers.first
        else {
            say("    COUNTER LOOKUP FAILED at DLR-GZ03: HQ answered \(response.status)")
            return false
        }
        let columns = Set(seen.records.flatMap { $0.values.keys }).sorted().joined(separator: ", ")
        let log = try await store.lookupLog(limit: 1, who: "DLR-GZ03")
        say("    DLR-GZ03 looked the mobile up at its counter: \(seen.records.count) records at \(Set(seen.records.map(\.dealer)).sorted().joined(separator: ", ")), "
            + "\(seen.vehicles.count) vehicle(s), \(seen.history.count) history row(s); customer columns sent: \(columns); HQ recorded the lookup: \(log.count == 1 ? "yes" : "NO")")
        return seen.records.count == 2 && log.count == 1
    }

    /// Step 10: each store's data-quality score and its worst fields (docs/QUALITY.md),
    /// against the dirty rows the generator planted.
    private func qualityScores(store: SQLiteSyncStore) async throws {
        let report = try await store.qualityReport(schema: schema, dealer: nil)
        say("10. Data quality per store (rules in the sync schema; each store can list its own records to fix):")
        for dealer in report.dealers where Self.stores.contains(where: { $0.0 == dealer.dealer }) {
            let worst = dealer.fields.prefix(3).map { "\($0.table).\($0.column) \(Int(($0.validShare * 100).rounded()))%" }
            say("    \(dealer.dealer)  score \(Int((dealer.score * 100).rounded()))%  worst: \(worst.joined(separator: ", "))")
        }
    }

    /// Step 9: HQ's merged customers as an SQL table, read as a BI tool would (read-only,
    /// its own connection, while HQ runs).
    private func tablesQuery() throws {
        var configuration = Configuration()
        configuration.readonly = true
        let tables = try DatabaseQueue(path: options.directory + "/hq.tables.sqlite", configuration: configuration)
        let sql = "SELECT home_dealer, count(*) AS customers FROM customers GROUP BY home_dealer ORDER BY home_dealer"
        let rows = try tables.read { db in try Row.fetchAll(db, sql: sql) }
        say("9. HQ's SQL tables (hq.tables.sqlite, read-only while HQ runs): \(sql)")
        for row in rows { say("   \((row["home_dealer"] as String?) ?? "(none)")  \(row["customers"] as Int)") }
    }

    // MARK: - Steps

    private func createStores() throws {
        try DealerSchema.syncSchemaYAML.write(toFile: options.directory + "/schema.yaml", atomically: true, encoding: .utf8)
        var lines: [String] = []
        for (index, (id, label)) in Self.stores.enumerated() {
            let path = options.directory + "/\(id).sqlite"
            let queue = try DatabaseQueue(path: path)
            var generator = DealershipGenerator(seed: options.seed + UInt64(index), dealer: id)
            let customers = options.customersPerStore
            let counts = try queue.write { db -> (Int, Int) in
                try db.execute(sql: DealerSchema.dmsSQL)
                let counts = try DealershipPopulator.populate(db, generator: &generator, customers: customers)
                return (counts.total, try Int.fetchOne(db, sql: "SELECT count(*) FROM customers WHERE mobile = '13800138000'") ?? 0)
            }
            let database = try DealerDatabase(settings: CaptureSettings(databasePath: path, node: id))
            _ = try database.install(schema: schema)
            // An agent config per store, so `status`, `conflicts` and `digest` work on a kept demo.
            try "node_id: \(id)\ndatabase: \(path)\nschema_file: \(options.directory)/schema.yaml\n"
                .write(toFile: options.directory + "/\(id).yaml", atomically: true, encoding: .utf8)
            dms[id] = queue
            databases[id] = database
            lines.append("   \(id) \(label): \(counts.0) rows, \(counts.1) customers with the fake mobile 13800138000")
        }
        say("2. Three stores with generated DMS data (Chinese names, real mobile prefixes, VINs with check digits, leads, service orders, dirty rows):")
        lines.forEach(say)
    }

    /// Runs the three agents' cycles concurrently, round after round, until nothing moves.
    private func settle() async throws -> (rounds: Int, pushed: Int) {
        var pushed = 0
        for round in 1...12 {
            let moved = try await withThrowingTaskGroup(of: CycleReport.self) { group in
                for (id, _) in Self.stores {
                    let cycle = SyncCycle(
                        database: databases[id]!, transport: transport,
                        settings: AgentSettings(hqURL: baseURL, token: tokens[id]!), logger: quiet)
                    group.addTask { try await cycle.run() }
                }
                var reports: [CycleReport] = []
                for try await report in group { reports.append(report) }
                return reports
            }
            pushed += moved.map(\.pushedRows).reduce(0, +)
            if moved.allSatisfy({ $0.pushedRows + $0.appliedRows == 0 }) { return (round, pushed) }
        }
        return (12, pushed)
    }

    private func hqWrite(_ json: String) async throws {
        let response = try await transport.send(SyncAgent.HTTPRequest(
            method: "POST", url: baseURL + "/v1/hq/changes",
            headers: [("Authorization", "Bearer \(tokens["crm"]!)"), ("Content-Type", "application/json")], body: Array(json.utf8)))
        guard response.status == 200 else {
            throw DemoError("HQ refused an HQ write with \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))", hint: "run the tests (./scripts/test) to see which part fails")
        }
    }

    private func feedState(of lead: String) async throws -> String? {
        let response = try await transport.send(SyncAgent.HTTPRequest(
            method: "GET", url: baseURL + "/v1/feed?limit=5000", headers: [("Authorization", "Bearer \(tokens["crm"]!)")]))
        guard response.status == 200,
            let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let changes = object["changes"] as? [[String: Any]]
        else { return nil }
        let last = changes.last { change in
            (change["table"] as? String) == "leads" && ((change["key"] as? [[String: Any]])?.first?["value"] as? String) == lead
        }
        return ((last?["values"] as? [String: Any])?["state"] as? [String: Any])?["value"] as? String
    }

    private func waitForHQ() async throws {
        for _ in 0..<100 {
            if let response = try? await transport.send(SyncAgent.HTTPRequest(method: "GET", url: baseURL + "/healthz")), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw DemoError("HQ did not start on \(baseURL)", hint: "another program may have taken the port; run the demo again")
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
    static func mask(_ name: String) -> String { String(name.prefix(1)) + String(repeating: "*", count: max(1, name.count - 1)) }
    static func maskMobile(_ mobile: String?) -> String {
        guard let mobile, mobile.count == 11 else { return "***" }
        return String(mobile.prefix(3)) + "****" + String(mobile.suffix(4))
    }
}

