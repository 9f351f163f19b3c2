import DealershipData
import Foundation
import GRDB
import HQServer
import Hummingbird
import Logging
import ServiceLifecycle
import SyncAgent
import SyncCore
import SyncDemo
import SyncTestSupport

/// The web console (issue 20, docs/CONSOLE.md): how long HQ takes to answer the fleet page
/// for 1,000 dealers, a dealer page and a customer page, over HTTP through libcurl (median of
/// 20 requests each), and how heavy each page is. `--screenshots DIR` instead runs the demo
/// and writes a PNG of every page from its data (scripts/screenshots).
enum ConsoleScenario {
    static func run(quick: Bool) async throws -> [Figure] {
        let dealerCount = quick ? 50 : 1_000
        let demo = TemporaryDirectory("bench-console")
        var options = Demo.Options(directory: demo.path)
        options.customersPerStore = quick ? 20 : 60
        guard try await Demo(options: options, output: { _ in }).run() else { throw BenchError("console: the demo did not converge") }
        let server = try await ConsoleServer(directory: demo.path, extraDealers: dealerCount - 3)
        defer { Task { await server.stop() } }
        let session = try await server.signIn()
        let transport = try CurlTransport(settings: TransportSettings(connectTimeoutMillis: 2_000))
        let customer = try await server.anyCustomer()
        var figures: [Figure] = []
        for (label, path) in [("fleet, \(dealerCount) dealers", "/console"), ("dealer", "/console/dealers/DLR-SH01"), ("customer", "/console/customers/\(customer)")] {
            var times: [Double] = []
            var bytes = 0
            var gzipped = 0
            for _ in 0..<(quick ? 3 : 20) {
                let start = ContinuousClock.now
                let response = try await transport.send(SyncAgent.HTTPRequest(method: "GET", url: server.baseURL + path, headers: [("Cookie", session)]))
                times.append((ContinuousClock.now - start).seconds * 1000)
                guard response.status == 200 else { throw BenchError("console: \(path) answered \(response.status)") }
                bytes = response.body.count
                gzipped = Gzip.compress(response.body).count
            }
            let median = times.sorted()[times.count / 2]
            progress("\(label): median \(String(format: "%.1f", median)) ms, \(bytes) bytes, \(gzipped) gzipped")
            figures.append(Figure(
                scenario: "console", metric: "\(label) page, median", value: median, unit: "ms", baseline: nil,
                goal: label.hasPrefix("fleet") ? "≤ 200 ms" : "", met: label.hasPrefix("fleet") ? median <= 200 : nil))
            figures.append(Figure(scenario: "console", metric: "\(label) page weight", value: Double(bytes) / 1024, unit: "KiB", baseline: nil, goal: "", met: nil))
            figures.append(Figure(scenario: "console", metric: "\(label) page weight, gzipped", value: Double(gzipped) / 1024, unit: "KiB", baseline: nil, goal: "", met: nil))
        }
        return figures
    }

    /// Runs the demo into `directory`, serves its store, and writes a PNG of every console page.
    static func screenshots(into directory: String) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let demo = TemporaryDirectory("screenshots-demo")
        guard try await Demo(options: Demo.Options(directory: demo.path), output: { progress($0) }).run() else {
            throw BenchError("screenshots: the demo did not converge")
        }
        let server = try await ConsoleServer(directory: demo.path, extraDealers: 0)
        let token = server.readerToken
        let customer = try await server.anyCustomer()
        let base = server.baseURL
        let written = try await onOwnThread { () -> [String] in
            let browser = try HeadlessChromium(width: 1280, height: 900, timezone: "Asia/Shanghai")
            defer { browser.close() }
            var files: [String] = []
            func shot(_ name: String) throws {
                let path = directory + "/\(name).png"
                try browser.screenshot(to: path)
                files.append(path)
            }
            try browser.navigate(base + "/console/login")
            try shot("1-login")
            try browser.evaluate("document.querySelector('input[name=token]').value = '\(token)'; true")
            try browser.evaluateAndWaitForLoad("document.querySelector('form').submit()")
            try shot("2-fleet")
            try browser.navigate(base + "/console/dealers/DLR-SH01")
            try shot("3-dealer")
            try browser.navigate(base + "/console/customers")
            try shot("4-customers")
            try browser.navigate(base + "/console/customers/\(customer)")
            try shot("5-customer-masked")
            try browser.evaluateAndWaitForLoad("document.querySelector('form[action$=\"/reveal\"]').submit()")
            try shot("6-customer-revealed")
            try browser.resize(width: 390, height: 844)
            try browser.navigate(base + "/console")
            try shot("7-fleet-phone")
            return files
        }
        await server.stop()
        for file in written { print(file) }
    }
}

/// `hq serve` over a demo's store files, with a reader token for the console.
final class ConsoleServer: @unchecked Sendable {
    let baseURL: String
    let readerToken: String
    let store: SQLiteSyncStore
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    init(directory: String, extraDealers: Int) async throws {
        let schema = try SyncSchema(yaml: DealerSchema.syncSchemaYAML)
        let storePath = directory + "/hq.sqlite", tablesPath = directory + "/hq.tables.sqlite"
        store = try SQLiteSyncStore(path: storePath, tables: (tablesPath, schema))
        readerToken = Tokens.generate()
        try await store.addPrincipal(NewPrincipal(id: "console-bench", name: "HQ operations", kind: .reader, tokenSHA256: Tokens.sha256(of: readerToken), createdAtMillis: 1))
        for index in 0..<extraDealers {
            try await store.addPrincipal(NewPrincipal(
                id: "DLR-B\(10_000 + index)", name: "门店 \(index)", kind: .dealer, tokenSHA256: Tokens.sha256(of: Tokens.generate()), createdAtMillis: 1))
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for hour in stride(from: 48, through: 0, by: -1) { try await store.recordStatusHistory(schema: schema, atMillis: now - Int64(hour) * 3_600_000) }
        let port = try LoopbackPort.free()
        baseURL = "http://127.0.0.1:\(port)"
        let app = buildApplication(
            HQConfig(host: "127.0.0.1", port: port, storePath: storePath, tablesPath: tablesPath, schema: schema), store: store, logger: BenchHQ.quiet)
        let group = ServiceGroup(services: [app], logger: BenchHQ.quiet)
        self.group = group
        task = Task { try await group.run() }
        try await BenchHQ.waitUntilUp(baseURL)
    }

    /// Signs in through the login form; returns the session's Cookie header value.
    func signIn() async throws -> String {
        let transport = try CurlTransport(settings: TransportSettings(connectTimeoutMillis: 2_000))
        let form = try await transport.send(SyncAgent.HTTPRequest(method: "GET", url: baseURL + "/console/login"))
        let html = String(decoding: form.body, as: UTF8.self)
        guard let cookie = form.headers.first(where: { $0.key.lowercased() == "set-cookie" })?.value.split(separator: ";").first,
            let range = html.range(of: #"name="csrf" value=""#)
        else { throw BenchError("console: the login page has no form") }
        let csrf = html[range.upperBound...].prefix { $0 != "\"" }
        let signedIn = try await transport.send(SyncAgent.HTTPRequest(
            method: "POST", url: baseURL + "/console/login",
            headers: [("Cookie", String(cookie)), ("Content-Type", "application/x-www-form-urlencoded")], body: Array("csrf=\(csrf)&token=\(readerToken)".utf8)))
        guard let session = signedIn.headers.first(where: { $0.key.lowercased() == "set-cookie" && $0.value.hasPrefix("dealersync_console=") }) else {
            throw BenchError("console: signing in answered \(signedIn.status)")
        }
        return String(session.value.split(separator: ";")[0])
    }

    /// A customer known at two stores (the demo's step 11), else any.
    func anyCustomer() async throws -> String {
        while try await store.linkIdentities(chunk: 2_000) > 0 {}
        guard let status = try await store.identityStatus(), status.people > 0 else { throw BenchError("console: no linked customers") }
        for id in (1...Int64(status.records + 10)).map({ "GC-" + String(1_000_000_0000 + $0).dropFirst() }) {
            if let customer = try await store.customer(id: id), customer.records.count > 1 { return id }
        }
        return "GC-0000000001"
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
