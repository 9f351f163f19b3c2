import Foundation
import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

@Suite("concurrent pushes")
struct ConcurrencyTests {
    @Test("the feed stays gap-free and in commit order under concurrent pushes")
    func feedOrder() async throws {
        let hq = try await HQFixture(limits: HQLimits(maxConcurrentIngests: 64))
        defer { hq.cleanUp() }
        let dealers = ["DLR-1", "DLR-2", "DLR-3"]
        let batchesPerDealer = 8
        let rowsPerBatch = 5
        var requests: [String: [PushRequest]] = [:]
        for id in dealers {
            var writer = FakeDealer(id)
            requests[id] = (0..<batchesPerDealer).map { batch in
                let rows = (0..<rowsPerBatch).map { row in
                    writer.insert("customers", key: [.text("\(id)-\(batch)-\(row)")], ["n": .integer(Int64(batch * rowsPerBatch + row))])
                }
                return PushRequest(
                    batch: Batch(dealer: writer.node, schemaVersion: 3, firstSequence: UInt64(batch * rowsPerBatch + 1), lastSequence: UInt64((batch + 1) * rowsPerBatch), rows: rows),
                    token: hq.tokens[id]!)
            }
        }
        let pushes = requests
        let app = try await buildApplication(hq.config)
        // In-process requests: the pushes still race each other, without the live client's
        // 20 s per-request timeout, which the full suite's load passed twice.
        try await app.test(.router) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in dealers {
                    group.addTask {
                        // Each dealer pushes in order, as an agent does; dealers race each other.
                        for request in pushes[id]! {
                            let response = try await client.push(id, request)
                            #expect(response.status == .ok)
                        }
                    }
                }
                try await group.waitForAll()
            }
            var cursor = ""
            var changes: [FeedPageJSON.Change] = []
            while true {
                let response = try await client.execute(uri: "/v1/feed?limit=7&after=\(cursor)", method: .get, headers: hq.bearer("crm"))
                let page = try JSONDecoder().decode(FeedPageJSON.self, from: Data(response.body.readableBytesView))
                if page.changes.isEmpty { break }
                changes += page.changes
                cursor = page.next_cursor
            }
            let total = dealers.count * batchesPerDealer * rowsPerBatch
            #expect(changes.map(\.seq) == Array(1...UInt64(total)), "feed sequences are 1...N without gaps")
            for id in dealers {
                let numbers = changes.filter { $0.source == id }.map { $0.values["n"]?.value }
                #expect(numbers == (0..<(batchesPerDealer * rowsPerBatch)).map { SQLValue.integer(Int64($0)) }, "\(id)'s rows appear in push order")
            }
        }
    }

    @Test("over max_concurrent_ingests a push waits at most max_ingest_queue_ms, then is 429 with Retry-After and changes nothing")
    func backpressure() async throws {
        let hq = try await HQFixture(limits: HQLimits(maxConcurrentIngests: 1, maxIngestQueueMillis: 50))
        defer { hq.cleanUp() }
        let blocking = BlockingStore(hq.store)
        var writer = FakeDealer("DLR-1")
        let first = PushRequest(
            batch: Batch(dealer: writer.node, schemaVersion: 3, firstSequence: 1, lastSequence: 1, rows: [writer.insert("customers", key: [.text("C-1")], [:])]),
            token: hq.tokens["DLR-1"]!)
        var other = FakeDealer("DLR-2")
        let second = PushRequest(
            batch: Batch(dealer: other.node, schemaVersion: 3, firstSequence: 1, lastSequence: 1, rows: [other.insert("customers", key: [.text("C-2")], [:])]),
            token: hq.tokens["DLR-2"]!)
        let app = buildApplication(hq.config, store: blocking)
        try await app.test(.router) { client in
            async let held = client.push("DLR-1", first)
            await blocking.waitUntilIngesting()
            let digest = try await hq.store.contentDigest()
            let refused = try await client.push("DLR-2", second)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] == "1")
            #expect(String(buffer: refused.body).contains("HQ is applying 1 batches already"))
            #expect(try await hq.store.contentDigest() == digest)
            blocking.release()
            #expect(try await held.status == .ok)
            let retried = try await client.push("DLR-2", second)
            #expect(retried.status == .ok)
        }
    }
}

/// A store whose first `ingest` waits until the test releases it, so a push can be held in
/// flight deterministically. Everything else goes straight to the SQLite store.
final class BlockingStore: SyncStore {
    let inner: SQLiteSyncStore
    private let entered: AsyncStream<Void>
    private let enteredContinuation: AsyncStream<Void>.Continuation
    private let released: AsyncStream<Void>
    private let releasedContinuation: AsyncStream<Void>.Continuation

    init(_ inner: SQLiteSyncStore) {
        self.inner = inner
        (entered, enteredContinuation) = AsyncStream.makeStream()
        (released, releasedContinuation) = AsyncStream.makeStream()
    }

    func waitUntilIngesting() async { for await _ in entered { return } }
    func release() { releasedContinuation.finish() }

    func ingest(_ batch: IngestBatch) async throws -> IngestOutcome {
        enteredContinuation.yield()
        for await _ in released {}
        return try await inner.ingest(batch)
    }

    func addPrincipal(_ principal: NewPrincipal) async throws { try await inner.addPrincipal(principal) }
    func revokePrincipal(id: String) async throws { try await inner.revokePrincipal(id: id) }
    func principal(tokenSHA256: String) async throws -> Principal? { try await inner.principal(tokenSHA256: tokenSHA256) }
    func acknowledgedReceipt(dealer: NodeID, sha256: String) async throws -> [UInt8]? {
        try await inner.acknowledgedReceipt(dealer: dealer, sha256: sha256)
    }
    func writeAsHQ(_ write: HQWrite) async throws -> HQWriteReceipt { try await inner.writeAsHQ(write) }
    func share(table: String, key: RowKey, with dealer: NodeID) async throws -> Bool {
        try await inner.share(table: table, key: key, with: dealer)
    }
    func changes(for dealer: NodeID, schema: SyncSchema, after: UInt64, limit: PageLimit) async throws -> ChangePage {
        try await inner.changes(for: dealer, schema: schema, after: after, limit: limit)
    }
    func feedPage(after: UInt64, limit: PageLimit) async throws -> FeedRead { try await inner.feedPage(after: after, limit: limit) }
    func latestSequence() async throws -> UInt64 { try await inner.latestSequence() }
    func recordPull(
        dealer: NodeID, cursor: UInt64, atMillis: Int64, clockSkewMillis: Int64?, capture: CaptureReport?, health: StoreHealthReport?
    ) async throws {
        try await inner.recordPull(dealer: dealer, cursor: cursor, atMillis: atMillis, clockSkewMillis: clockSkewMillis, capture: capture, health: health)
    }
    func acknowledgedSequence(dealer: NodeID) async throws -> UInt64 { try await inner.acknowledgedSequence(dealer: dealer) }
    func resendAll(to dealer: NodeID) async throws -> Int { try await inner.resendAll(to: dealer) }
    func tablesStatus() async throws -> TablesStatus? { try await inner.tablesStatus() }
    func linkIdentities(chunk: Int) async throws -> Int { try await inner.linkIdentities(chunk: chunk) }
    func identityStatus() async throws -> IdentityStatus? { try await inner.identityStatus() }
    func findCustomers(_ query: CustomerQuery) async throws -> [String] { try await inner.findCustomers(query) }
    func customer(id: String) async throws -> CustomerHistory? { try await inner.customer(id: id) }
    func recordLookup(_ lookup: CustomerLookup) async throws { try await inner.recordLookup(lookup) }
    func lookupCount(by who: String, sinceMillis: Int64) async throws -> Int { try await inner.lookupCount(by: who, sinceMillis: sinceMillis) }
    func changeLink(_ change: LinkChange, _ a: RowKey, _ b: RowKey, by who: String) async throws -> (String, String) {
        try await inner.changeLink(change, a, b, by: who)
    }
    func dealerActivity(dealer: String, limit: Int, sinceMillis: Int64) async throws -> DealerActivity {
        try await inner.dealerActivity(dealer: dealer, limit: limit, sinceMillis: sinceMillis)
    }
    func publishedSchema(version: UInt64) async throws -> PublishedSchema? { try await inner.publishedSchema(version: version) }
    func assignment(dealer: NodeID) async throws -> DealerAssignment { try await inner.assignment(dealer: dealer) }
    func recordRequestProgress(
        dealer: NodeID, id: Int64, state: RemoteRequest.State, done: Int, total: Int, message: String?, atMillis: Int64
    ) async throws {
        try await inner.recordRequestProgress(dealer: dealer, id: id, state: state, done: done, total: total, message: message, atMillis: atMillis)
    }
    func backlog(for dealer: NodeID, schema: SyncSchema, after: UInt64) async throws -> Int {
        try await inner.backlog(for: dealer, schema: schema, after: after)
    }
    func recordAccess(_ record: AccessRecord) async throws { try await inner.recordAccess(record) }
    func rowsPushed(sinceMillis: Int64) async throws -> [String: Int] { try await inner.rowsPushed(sinceMillis: sinceMillis) }
    func erase(_ request: ErasureRequest) async throws -> ErasureStatus { try await inner.erase(request) }
    func erasures(id: Int64?, limit: Int) async throws -> [ErasureStatus] { try await inner.erasures(id: id, limit: limit) }
    func status(schema: SyncSchema, dealer: String) async throws -> DealerStatus? { try await inner.status(schema: schema, dealer: dealer) }
    func recordShape(dealer: NodeID, report: ShapeReport, schema: SyncSchema, atMillis: Int64) async throws -> ShapeOutcome {
        try await inner.recordShape(dealer: dealer, report: report, schema: schema, atMillis: atMillis)
    }
    func fillTables(chunk: Int) async throws -> Int { try await inner.fillTables(chunk: chunk) }
    func qualityReport(schema: SyncSchema, dealer: String?) async throws -> QualityReport {
        try await inner.qualityReport(schema: schema, dealer: dealer)
    }
    func qualityIssues(dealer: String, schema: SyncSchema, limit: Int) async throws -> [StoreQualityIssue] {
        try await inner.qualityIssues(dealer: dealer, schema: schema, limit: limit)
    }
    func retentionStatus(feedDays: Int, schema: SyncSchema) async throws -> RetentionStatus {
        try await inner.retentionStatus(feedDays: feedDays, schema: schema)
    }
    func status(schema: SyncSchema) async throws -> [DealerStatus] { try await inner.status(schema: schema) }
}
