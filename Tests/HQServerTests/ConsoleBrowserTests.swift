import Foundation
@testable import HQServer
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// The web console driven in headless Chromium (Debian's `chromium`, installed by
/// scripts/install-system-deps.sh): sign in, the fleet, a dealer, a customer, a bad token,
/// script in DMS data, and a forged form, as a user's browser meets them.
@Suite("HQ web console in a browser", .enabled(if: HeadlessChromium.executable != nil))
struct ConsoleBrowserTests {
    @Test("sign in, fleet, dealer, customer (masked, then revealed), a bad token, an XSS attempt in DMS data and a forged form, on a laptop and a phone")
    func browse() async throws {
        let hq = try await HQFixture(schemaYAML: IdentityTests.schema, tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            var one = FakeDealer("DLR-1"), two = FakeDealer("DLR-2")
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [
                IdentityTests.customer(&one, "C-1", ["name": "王小明", "mobile": "13957290318", "customer_class": "VIP"]),
                IdentityTests.customer(&one, "XSS-1", ["name": "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>", "mobile": "13511112222"]),
            ], sequence: 1)
            _ = try await HostileDealerTests.push(client, hq, "DLR-2", [IdentityTests.customer(&two, "C-2", ["name": "王小明", "mobile": "+86 139 5729 0318"])], sequence: 1)
            while try await hq.store.linkIdentities(chunk: 100) > 0 {}
            let base = "http://127.0.0.1:\(port)"
            let token = hq.tokens["crm"]!
            let log = try await onOwnThread { () -> [String] in
                let browser = try HeadlessChromium(width: 1280, height: 900, timezone: "Asia/Shanghai")
                defer { browser.close() }
                var seen: [String] = []
                func fill(_ selector: String, _ value: String) throws {
                    try browser.evaluate("document.querySelector('\(selector)').value = \(Self.jsString(value)); true")
                }
                // Not signed in: the login page.
                try browser.navigate("\(base)/console")
                #expect(try browser.url.hasSuffix("/console/login"))
                // A bad token.
                try fill("input[name=token]", "not-a-token")
                try browser.evaluateAndWaitForLoad("document.querySelector('form').submit()")
                #expect(try browser.lastStatus == 401 && browser.text.contains("not a valid reader token"))
                // Sign in.
                try fill("input[name=token]", token)
                try browser.evaluateAndWaitForLoad("document.querySelector('form').submit()")
                #expect(try browser.url == "\(base)/console")
                #expect(try browser.text.contains("Fleet · 3 dealers"))
                #expect(!(try browser.evaluate("document.cookie")).contains("dealersync_console="), "the session cookie is HttpOnly")
                // Times shown in the viewer's zone by the page's script.
                #expect(try browser.evaluate("document.getElementById('zone').textContent") == "Asia/Shanghai")
                // Sort by clicking a column, with the keyboard's way in: a link.
                try browser.evaluateAndWaitForLoad("[...document.querySelectorAll('th a')].find(a => a.textContent.startsWith('Backlog')).click()")
                #expect(try browser.url.contains("sort=backlog"))
                // A dealer.
                try browser.evaluateAndWaitForLoad("document.querySelector('a[href=\"/console/dealers/DLR-1\"]').click()")
                #expect(try browser.text.contains("Recent batches") && browser.evaluate("document.querySelectorAll('svg.chart').length") == "2")
                // Find a customer: the mobile travels in the form body, never the address.
                try browser.navigate("\(base)/console/customers")
                try fill("input[name=value]", "139 5729 0318")
                try browser.evaluateAndWaitForLoad("document.querySelector('main form').submit()")
                #expect(try browser.url == "\(base)/console/customers", "no personal data in the URL")
                try browser.evaluateAndWaitForLoad("document.querySelector('a[href^=\"/console/customers/GC-\"]').click()")
                let masked = try browser.text
                #expect(masked.contains("王**") && masked.contains("139****0318") && !masked.contains("13957290318"), "\(masked)")
                #expect(masked.contains("DLR-1") && masked.contains("DLR-2"), "one person known at two stores")
                try browser.evaluateAndWaitForLoad("document.querySelector('form[action$=\"/reveal\"]').submit()")
                #expect(try browser.text.contains("13957290318"))
                // A forged form: the same form without its CSRF token.
                try browser.navigate("\(base)/console/customers")
                try fill("input[name=value]", "13957290318")
                try browser.evaluateAndWaitForLoad("document.querySelector('main form input[name=csrf]').remove(); document.querySelector('main form').submit()")
                #expect(try browser.lastStatus == 403 && browser.text.contains("Form refused"))
                // Script in DMS data is shown as text and never runs.
                try browser.navigate("\(base)/console/customers")
                try fill("input[name=value]", "13511112222")
                try browser.evaluateAndWaitForLoad("document.querySelector('main form').submit()")
                try browser.evaluateAndWaitForLoad("document.querySelector('a[href^=\"/console/customers/GC-\"]').click()")
                try browser.evaluateAndWaitForLoad("document.querySelector('form[action$=\"/reveal\"]').submit()")
                #expect(try browser.title != "pwned" && browser.text.contains("<script>document.title='pwned'</script>"))
                #expect(try browser.evaluate("document.querySelectorAll('main img, main script').length") == "0")
                // A phone: nothing wider than the screen but the scrolling tables.
                try browser.resize(width: 390, height: 800)
                try browser.navigate("\(base)/console")
                #expect(try browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth") == "true")
                // Keyboard: every link and button can take focus.
                #expect(try browser.evaluate("[...document.querySelectorAll('a, button, input, select')].every(e => e.tabIndex >= 0)") == "true")
                // Sign out.
                try browser.evaluateAndWaitForLoad("document.querySelector('header form').submit()")
                try browser.navigate("\(base)/console")
                #expect(try browser.url.hasSuffix("/console/login"))
                seen = browser.consoleMessages
                return seen
            }
            #expect(!log.contains { $0.contains("exception") }, "\(log)")
            let lookups = try await hq.store.lookupLog(limit: 20, who: "crm").map(\.queryKind)
            #expect(lookups.filter { $0 == "console:reveal" }.count == 2)
        }
    }

    static func jsString(_ text: String) -> String {
        let data = try! JSONEncoder().encode(text)
        return String(decoding: data, as: UTF8.self)
    }
}
