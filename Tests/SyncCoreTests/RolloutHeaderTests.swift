import SyncCore
import Testing

/// The headers of schema rollout and remote requests (docs/ROLLOUT.md) parse strictly: a
/// hostile or broken HQ (or proxy) cannot make an agent act on anything but known fields.
@Suite("Rollout headers")
struct RolloutHeaderTests {
    @Test("X-Dealersync-Request round-trips and refuses unknown kinds, keys, bad ids and table names")
    func storeRequest() {
        let request = StoreRequest(id: 7, kind: .resync, table: "customers")
        #expect(StoreRequest(headerValue: request.headerValue) == request)
        #expect(StoreRequest(headerValue: "id=8 kind=resync") == StoreRequest(id: 8, kind: .resync, table: nil))
        for bad in [
            "", "id=0 kind=resync", "id=-1 kind=resync", "id=x kind=resync", "id=1 kind=drop", "id=1", "kind=resync",
            "id=1 kind=resync table=a;b", "id=1 kind=resync table=\"x\"", "id=1 kind=resync id=2", "id=1 kind=resync extra=1",
            "id=1 kind=resync table=" + String(repeating: "a", count: 200),
        ] {
            #expect(StoreRequest(headerValue: bad) == nil, "\(bad)")
        }
    }

    @Test("X-Dealersync-Settings round-trips and refuses out-of-range values, unknown and repeated keys")
    func groupSettings() {
        let settings = GroupAgentSettings(pollSeconds: 30, pageRows: 500)
        #expect(GroupAgentSettings(headerValue: settings.headerValue) == settings)
        #expect(GroupAgentSettings(headerValue: "page_rows=10") == GroupAgentSettings(pageRows: 10))
        for bad in ["poll_seconds=0", "poll_seconds=3601", "page_rows=9", "page_rows=10001", "poll_seconds=5 poll_seconds=6", "token=abc", "page_rows=1e3", "page_rows"] {
            #expect(GroupAgentSettings(headerValue: bad) == nil, "\(bad)")
        }
    }

    @Test("the health header carries the schema version the store runs, and refuses a bad one")
    func healthSchema() {
        let report = StoreHealthReport(agentVersion: "0.1.0", pendingChanges: 1, outboxRows: 2, heldRows: 0, freeDiskMB: 10, lastError: nil, schemaVersion: 3)
        #expect(report.headerValue == "v=0.1.0 schema=3 pending=1 outbox=2 held=0 disk_mb=10")
        #expect(StoreHealthReport(headerValue: report.headerValue) == report)
        #expect(StoreHealthReport(headerValue: "v=0.1.0 schema=-1 pending=1 outbox=2 held=0") == nil)
        #expect(StoreHealthReport(headerValue: "v=0.1.0 schema=two pending=1 outbox=2 held=0") == nil)
    }
}
