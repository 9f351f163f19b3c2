import Foundation
import SyncAgent
import Testing

@Suite("Retry-After parsing")
struct RetryAfterTests {
    // Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110.
    let now = Date(timeIntervalSince1970: 784_111_777)

    @Test("delay-seconds", arguments: [("120", 120), ("0", 0), (" 5 ", 5), ("99999999999999999999999", Int.max)])
    func deltaSeconds(value: String, seconds: Int) {
        #expect(RetryAfter.seconds(from: value, now: now) == seconds)
    }

    @Test("the three HTTP-date forms, counted from now")
    func httpDates() {
        #expect(RetryAfter.seconds(from: "Sun, 06 Nov 1994 08:50:37 GMT", now: now) == 60)
        #expect(RetryAfter.seconds(from: "Sunday, 06-Nov-94 08:50:37 GMT", now: now) == 60)
        #expect(RetryAfter.seconds(from: "Sun Nov  6 08:50:37 1994", now: now) == 60)
        #expect(RetryAfter.seconds(from: "Sun, 06 Nov 1994 09:49:37 GMT", now: now) == 3_600)
    }

    @Test("a date in the past means now; a fraction of a second rounds up")
    func pastAndFractions() {
        #expect(RetryAfter.seconds(from: "Sat, 05 Nov 1994 08:49:37 GMT", now: now) == 0)
        let slightlyEarlier = now.addingTimeInterval(-0.25)
        #expect(RetryAfter.seconds(from: "Sun, 06 Nov 1994 08:49:38 GMT", now: slightlyEarlier) == 2)
    }

    @Test("anything else is not a Retry-After", arguments: ["", "soon", "-5", "1.5", "12abc", "Sun, 99 Nov 1994 08:49:37 GMT"])
    func invalid(value: String) {
        #expect(RetryAfter.seconds(from: value, now: now) == nil)
    }
}
