import SyncCore
import Testing

/// `X-Dealersync-Capture`, which a hostile store controls: HQ keeps only well-formed values.
@Suite("capture report header")
struct CaptureReportTests {
    @Test("round trip, and a gap of 0 means none")
    func roundTrip() {
        let report = CaptureReport(state: .repairing, tables: 2, lastGapMillis: 1_796_279_813_329)
        #expect(report.headerValue == "repairing 2 1796279813329")
        #expect(CaptureReport(headerValue: report.headerValue) == report)
        #expect(CaptureReport(headerValue: "ok 0 0") == CaptureReport(state: .ok, tables: 0, lastGapMillis: nil))
    }

    @Test("anything else is ignored", arguments: [
        "", "ok", "ok 0", "ok 0 0 0", "OK 0 0", "broken 1 0", "off -1 0", "off 1 -5", "off 1 <script>",
        "off 100001 0", "ok  0 0", "off 1 0\nX-Forged: 1", String(repeating: "9", count: 80),
    ])
    func refused(_ value: String) {
        #expect(CaptureReport(headerValue: value) == nil)
    }
}
