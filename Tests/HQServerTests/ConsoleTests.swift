import Foundation
import GRDB
@testable import HQServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncCore
import SyncTestSupport
import Testing

/// The web console over HTTP (docs/CONSOLE.md): sign-in, session cookie, CSRF, security
/// headers, masking, and what each page shows. The same flows in a real browser are in
/// ConsoleBrowserTests.
@Suite("HQ web console")
struct ConsoleTests {
    /// Signs in as `reader` through the login form; returns the session cookie and the CSRF token of the session's pages.
    static func signIn(_ client: some TestClientProtocol, _ hq: HQFixture, as reader: String = "crm", forwardedProto: String? = nil) async throws -> (cookie: String, csrf: String, setCookie: String) {
        let form = try await client.execute(uri: "/console/login", method: .get)
        let loginCookie = try #require(form.headers[.setCookie]?.split(separator: ";").first.map(String.init))
        let loginCSRF = try #require(Self.hidden("csrf", in: Self.text(form)))
        var headers: HTTPFields = [.cookie: loginCookie, .contentType: "application/x-www-form-urlencoded"]
        if let forwardedProto { headers[HTTPField.Name("X-Forwarded-Proto")!] = forwardedProto }
        let signedIn = try await client.execute(
            uri: "/console/login", method: .post, headers: headers,
            body: ByteBuffer(string: "csrf=\(loginCSRF)&token=\(hq.tokens[reader]!)"))
        #expect(signedIn.status == .seeOther, "\(Self.text(signedIn))")
        let setCookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("dealersync_console=") })
        let cookie = String(setCookie.split(separator: ";")[0])
        let fleet = try await client.execute(uri: "/console", method: .get, headers: [.cookie: cookie])
        let csrf = try #require(Self.hidden("csrf", in: Self.text(fleet)))
        return (cookie, csrf, setCookie)
    }

    static func text(_ response: TestResponse) -> String { String(decoding: response.body.readableBytesView, as: UTF8.self) }

    /// The value of the hidden input `name` in a page.
    static func hidden(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: #"name="\#(name)" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    static func post(_ client: some TestClientProtocol, _ uri: String, cookie: String, _ body: String) async throws -> TestResponse {
        try await client.execute(
            uri: uri, method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: body))
    }

    @Test("sign in with a reader token: the session cookie is HttpOnly and SameSite=Strict (Secure behind TLS); dealer tokens, wrong tokens and forged sign-ins are refused")
    func signInRules() async throws {
        let hq = try await HQFixture(tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let anonymous = try await client.execute(uri: "/console", method: .get)
            #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/console/login")
            let (cookie, _, setCookie) = try await Self.signIn(client, hq)
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && !setCookie.contains("Secure"))
            #expect(try await Self.signIn(client, hq, forwardedProto: "https").setCookie.contains("; Secure"))
            let fleet = try await client.execute(uri: "/console", method: .get, headers: [.cookie: cookie])
            #expect(fleet.status == .ok && Self.text(fleet).contains("DLR-1"))
            let csp = try #require(fleet.headers[.contentSecurityPolicy])
            #expect(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"))
            #expect(fleet.headers[.cacheControl] == "no-store" && fleet.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(!Self.text(fleet).contains("<script>") && !Self.text(fleet).contains(" style="), "no inline script or style for the CSP to allow")

            // A dealer's token, a wrong token, a sign-in without the form's cookie.
            let form = try await client.execute(uri: "/console/login", method: .get)
            let loginCookie = String(form.headers[.setCookie]!.split(separator: ";")[0])
            let loginCSRF = Self.hidden("csrf", in: Self.text(form))!
            for token in [hq.tokens["DLR-1"]!, "not-a-token"] {
                let refused = try await Self.post(client, "/console/login", cookie: loginCookie, "csrf=\(loginCSRF)&token=\(token)")
                #expect(refused.status == .unauthorized && refused.headers[.setCookie]?.hasPrefix("dealersync_console=") != true)
            }
            let forged = try await Self.post(client, "/console/login", cookie: "", "csrf=\(loginCSRF)&token=\(hq.tokens["crm"]!)")
            #expect(forged.status == .forbidden, "a sign-in posted from another site carries no login cookie")
            #expect(try await client.execute(uri: "/console", method: .get, headers: [.cookie: "dealersync_console=guessed"]).status == .seeOther)
        }
    }

    @Test("every form needs the session's CSRF token; signing out and revoking the token end the session")
    func csrfAndSessions() async throws {
        let hq = try await HQFixture(tables: true)
        defer { hq.cleanUp() }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            let (cookie, csrf, _) = try await Self.signIn(client, hq)
            let forged = try await Self.post(client, "/console/customers", cookie: cookie, "kind=mobile&value=13957290318")
            #expect(forged.status == .forbidden && Self.text(forged).contains("CSRF"))
            let wrong = try await Self.post(client, "/console/logout", cookie: cookie, "csrf=\(String(repeating: "0", count: 64))")
            #expect(wrong.status == .forbidden)
            let out = try await Self.post(client, "/console/logout", cookie: cookie, "csrf=\(csrf)")
            #expect(out.status == .seeOther)
            #expect(try await client.execute(uri: "/console", method: .get, headers: [.cookie: cookie]).status == .seeOther, "signed out")

            let (again, _, _) = try await Self.signIn(client, hq)
            #expect(try await client.execute(uri: "/console", method: .get, headers: [.cookie: again]).status == .ok)
            try await hq.store.revokePrincipal(id: "crm")
            #expect(try await client.execute(uri: "/console", method: .get, headers: [.cookie: again]).status == .seeOther, "a revoked token's session ends")
        }
    }

    @Test("the fleet page lists every dealer with its state and sorts; a dealer page shows batches, dead letters, charts and a DMS value only escaped")
    func pages() async throws {
        let hq = try await HQFixture(schemaYAML: IdentityTests.schema, tables: true)
        defer { hq.cleanUp() }
        for index in 0..<1_000 {
            try await hq.store.addPrincipal(NewPrincipal(
                id: "DLR-X\(1000 + index)", name: "门店 \(index)", kind: .dealer, tokenSHA256: Tokens.sha256(of: Tokens.generate()), createdAtMillis: 1))
        }
        let app = try await buildApplication(hq.config)
        try await app.test(.router) { client in
            var one = FakeDealer("DLR-1")
            let hostile = IdentityTests.customer(&one, "XSS-1", ["name": "<script>alert(1)</script>", "mobile": "13957290318"])
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [hostile], sequence: 1)
            // A row for a table not in the schema: a dead letter with its reason.
            let stray = one.insert("nope", key: [.text("x")], ["a": .text("b")])
            _ = try await HostileDealerTests.push(client, hq, "DLR-1", [stray], sequence: 2)
            try await hq.store.recordStatusHistory(schema: hq.config.schema, atMillis: Int64(Date().timeIntervalSince1970 * 1000) - 600_000)
            try await hq.store.recordStatusHistory(schema: hq.config.schema, atMillis: Int64(Date().timeIntervalSince1970 * 1000))
            let (cookie, csrf, _) = try await Self.signIn(client, hq)

            let started = ContinuousClock.now
            let fleet = try await client.execute(uri: "/console", method: .get, headers: [.cookie: cookie])
            let elapsed = ContinuousClock.now - started
            let html = Self.text(fleet)
            #expect(html.components(separatedBy: "<tr><td><a href=\"/console/dealers/").count - 1 == 1_003)
            #expect(html.contains("门店 999") && html.contains("never seen"))
            print("console fleet page with 1,003 dealers (debug build, test router): \(elapsed), \(html.utf8.count) bytes")
            let sorted = Self.text(try await client.execute(uri: "/console?sort=dead_letters&dir=desc", method: .get, headers: [.cookie: cookie]))
            let first = sorted.range(of: "<tr><td><a href=\"/console/dealers/").map { sorted[$0.upperBound...].prefix(5) }
            #expect(first == "DLR-1", "the dealer with dead letters first")
            let filtered = Self.text(try await client.execute(uri: "/console?q=DLR-X1999", method: .get, headers: [.cookie: cookie]))
            #expect(filtered.contains("1 of 1003 dealers shown"))

            let dealer = try await client.execute(uri: "/console/dealers/DLR-1", method: .get, headers: [.cookie: cookie])
            let page = Self.text(dealer)
            #expect(dealer.status == .ok && page.contains("DLR-1:1-1") && page.contains("table &#39;nope&#39;"))
            #expect(page.components(separatedBy: "<svg").count - 1 == 2 && page.contains("<polyline"))
            #expect(try await client.execute(uri: "/console/dealers/DLR-NOPE", method: .get, headers: [.cookie: cookie]).status == .notFound)

            // The hostile name, found by mobile: escaped wherever it is shown, masked by default.
            while try await hq.store.linkIdentities(chunk: 100) > 0 {}
            let found = try await Self.post(client, "/console/customers", cookie: cookie, "csrf=\(csrf)&kind=mobile&value=139+5729+0318")
            let results = Self.text(found)
            #expect(found.status == .ok && !results.contains("<script>alert") && results.contains("&lt;****"), "\(results)")
            let id = try #require(results.range(of: "/console/customers/GC-").map { "GC-" + results[$0.upperBound...].prefix(10) })
            let masked = Self.text(try await client.execute(uri: "/console/customers/\(id)", method: .get, headers: [.cookie: cookie]))
            #expect(!masked.contains("13957290318") && masked.contains("139****0318"))
            let revealed = Self.text(try await Self.post(client, "/console/customers/\(id)/reveal", cookie: cookie, "csrf=\(csrf)"))
            #expect(revealed.contains("13957290318") && revealed.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !revealed.contains("<script>alert"))
            let log = try await hq.store.lookupLog(limit: 10, who: "crm").map(\.queryKind)
            #expect(log.contains("console:reveal") && log.contains("console:view") && log.contains("console:mobile"))
            _ = elapsed
        }
    }
}
