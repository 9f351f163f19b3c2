import SyncCore
import Testing

/// `X-Dealersync-Health` (issue 21): what an agent reports of its store on every pull, and
/// what HQ refuses to read from a hostile one.
@Suite("Store health report")
struct StoreHealthReportTests {
    @Test("a report reads back as written, with and without disk and error")
    func roundTrip() {
        let full = StoreHealthReport(agentVersion: "0.1.0", pendingChanges: 12, outboxRows: 3, heldRows: 2, freeDiskMB: 20_480, lastError: "hqUnreachable")
        #expect(full.headerValue == "v=0.1.0 pending=12 outbox=3 held=2 disk_mb=20480 error=hqUnreachable")
        #expect(StoreHealthReport(headerValue: full.headerValue) == full)
        let bare = StoreHealthReport(agentVersion: "1.2.3-rc.1+b7", pendingChanges: 0, outboxRows: 0, heldRows: 0, freeDiskMB: nil, lastError: nil)
        #expect(StoreHealthReport(headerValue: bare.headerValue) == bare)
    }

    @Test("a hostile header is refused whole: values, free text, unknown keys, repeats, huge or negative numbers, too long")
    func hostile() {
        for header in [
            "v=0.1.0 pending=1 outbox=0 held=0 error=王小明",
            "v=0.1.0 pending=1 outbox=0 held=0 error=13957290318\u{0}",
            "v=0.1.0 pending=1 outbox=0 held=0 note=hello",
            "v=0.1.0 pending=1 pending=2 outbox=0 held=0",
            "v=0.1.0 pending=-1 outbox=0 held=0",
            "v=0.1.0 pending=99999999999999 outbox=0 held=0",
            "v=0.1.0 pending=1 outbox=0",
            "v=<script> pending=1 outbox=0 held=0",
            "v=0.1.0 pending=1 outbox=0 held=0 disk_mb=lots",
            "v=0.1.0 pending=1 outbox=0 held=0 error=" + String(repeating: "a", count: 41),
            "v=0.1.0 pending=1 outbox=0 held=0 " + String(repeating: " ", count: 300),
        ] {
            #expect(StoreHealthReport(headerValue: header) == nil, "\(header)")
        }
    }
}
