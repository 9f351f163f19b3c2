import GRDB
@testable import HQServer
import SyncTestSupport
import Testing

@Suite("HQ store durability")
struct DurabilityTests {
    @Test("every HQ store connection commits with synchronous=FULL: an acknowledged push survives a power cut")
    func synchronousFull() async throws {
        let directory = TemporaryDirectory("durability")
        let store = try SQLiteSyncStore(path: directory.file("hq.sqlite"))
        let writer = try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        let reader = try await store.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(writer == 2 && reader == 2, "2 is FULL")
    }
}
