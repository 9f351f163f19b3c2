import DealershipData
import Foundation
@testable import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// deploy/prometheus's alert rules and deploy/grafana's dashboard (issue 21): promtool checks
/// the rules and runs their unit tests, and every metric they name is one HQ exports.
@Suite("Alert rules and dashboard")
struct AlertRulesTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy")
    static let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("promtool accepts the rules and their unit tests pass (store silent, capture off, clock skew, dead letters, disk, HQ ingest errors)",
          .enabled(if: promtool != nil))
    func promtoolChecks() async throws {
        let directory = Self.deploy.appendingPathComponent("prometheus").path
        let check = try await ProcessRunner.run(URL(fileURLWithPath: Self.promtool!), ["check", "rules", "\(directory)/dealersync-alerts.yml"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let unit = try await ProcessRunner.run(URL(fileURLWithPath: Self.promtool!), ["test", "rules", "\(directory)/dealersync-alerts.test.yml"])
        #expect(unit.status == 0, "\(unit.stdout)\(unit.stderr)")
    }

    @Test("every metric the alert rules and the dashboard use is one HQ's /metrics exports")
    func metricsExist() async throws {
        let rules = try String(contentsOf: Self.deploy.appendingPathComponent("prometheus/dealersync-alerts.yml"), encoding: .utf8)
        let dashboard = try String(contentsOf: Self.deploy.appendingPathComponent("grafana/dealersync-dashboard.json"), encoding: .utf8)
        _ = try JSONSerialization.jsonObject(with: Data(dashboard.utf8))
        let used = Set((rules + dashboard).matches(of: /dealersync_[a-z_]+/).map { String($0.output) })
            .filter { !["dealersync_alerts", "dealersync_fleet"].contains($0) && !$0.hasPrefix("dealersync_stores") }
        #expect(used.count >= 15, "\(used.sorted())")

        let hq = try await HQFixture(schemaYAML: DealerSchema.syncSchemaYAML, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            var one = FakeDealer("DLR-1")
            let row = one.insert("customers", key: [.text("C-1")], ["name": .text("王小明"), "mobile": .text("13957290318"), "home_dealer": .text("DLR-1")])
            let batch = Batch(dealer: one.node, schemaVersion: 1, firstSequence: 1, lastSequence: 1, rows: [row])
            #expect(try await client.push("DLR-1", PushRequest(batch: batch, token: hq.tokens["DLR-1"]!)).status == .ok)
            let health = StoreHealthReport(agentVersion: "0.1.0", pendingChanges: 1, outboxRows: 0, heldRows: 0, freeDiskMB: 100, lastError: nil)
            _ = try await client.execute(
                uri: "/v1/dealers/DLR-1/changes?limit=10", method: .get,
                headers: [
                    .authorization: "Bearer \(hq.tokens["DLR-1"]!)", HTTPField.Name(StoreHealthReport.headerName)!: health.headerValue,
                    HTTPField.Name("X-Dealersync-Clock")!: String(Date.nowMillis), .dealersyncCapture: "ok 0 0",
                ])
            while try await hq.store.linkIdentities(chunk: 100) > 0 {}
            let metrics = String(decoding: try await client.execute(uri: "/metrics", method: .get).body.readableBytesView, as: UTF8.self)
            for name in used.sorted() {
                #expect(metrics.contains("\n\(name)") || metrics.contains("\n\(name){") || metrics.hasPrefix(name), "\(name) is not exported")
            }
        }
    }
}
