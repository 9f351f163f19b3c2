import Foundation
import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SyncCore
import Synchronization
import SyncTestSupport
import Testing

@Suite("errors and logs carry no row value and no token")
struct PrivacyTests {
    @Test("log lines and error bodies from pushes, dead letters and refusals never show a value or token")
    func noValuesInLogs() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let lines = LogLines()
        let logger = Logger(label: "test") { _ in RecordingLogHandler(lines: lines) }
        let secret = "SECRET-PHONE-0612345678"
        var dealer = FakeDealer("DLR-1")
        let rows = [
            dealer.insert("customers", key: [.text("C-\(secret)")], ["phone": .text(secret)]),
            dealer.insert("unknown_table", key: [.text(secret)], ["phone": .text(secret)]),
            dealer.insert("leads", key: [.text("L-1")], ["assigned_dealer": .blob(Array(secret.utf8))]),
        ]
        let node = dealer.node
        let app = try await buildApplication(hq.config, logger: logger)
        let bodies = try await app.test(.router) { client in
            let ok = try await client.push("DLR-1", PushRequest(batch: Batch(dealer: node, schemaVersion: 3, firstSequence: 1, lastSequence: 3, rows: rows), token: hq.tokens["DLR-1"]!))
            #expect(ok.status == .ok)
            var refusals: [TestResponse] = []
            refusals.append(try await client.push("DLR-1", PushRequest(batch: Batch(dealer: node, schemaVersion: 3, firstSequence: 1, lastSequence: 3, rows: []), token: hq.tokens["DLR-1"]!)))
            refusals.append(try await client.push("DLR-2", PushRequest(batch: Batch(dealer: node, schemaVersion: 3, firstSequence: 4, lastSequence: 4, rows: rows), token: hq.tokens["DLR-1"]!)))
            refusals.append(try await client.hqWrite(#"{"table":"leads","key":["\#(secret)"],"values":{"assigned_dealer":{"type":"integer","value":"\#(secret)"}}}"#, token: hq.tokens["hq-crm"]!))
            refusals.append(try await client.execute(uri: "/v1/nothing-here", method: .get))
            for response in refusals {
                #expect(response.status.code >= 400)
                #expect(try errorBody(response).hint.isEmpty == false)
            }
            return refusals.map { String(decoding: $0.body.readableBytesView, as: UTF8.self) }
        }
        let logged = lines.all
        #expect(logged.contains { $0.contains("dead letter") })
        for text in logged + bodies {
            #expect(!text.contains(secret), "leaked a value: \(text)")
            for token in hq.tokens.values { #expect(!text.contains(token), "leaked a token") }
        }
    }

    @Test("an unknown route answers 404 in the JSON error shape")
    func notFound() async throws {
        let hq = try await HQFixture()
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/v2/whatever", method: .get)
            #expect(response.status == .notFound)
            #expect(try errorBody(response).error == "no such endpoint")
        }
    }
}
