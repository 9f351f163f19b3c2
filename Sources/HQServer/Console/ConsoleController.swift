import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import SyncCore

/// HQ's web console (docs/CONSOLE.md): server-rendered pages for operations staff —
/// the fleet, each dealer, customers — behind a reader token.
///
/// Security, in the order a request meets it: every response carries a
/// Content-Security-Policy without inline script or style, `nosniff`, no referrer, no
/// framing and no caching; a page needs a live session (`ConsoleSessions`), whose token is
/// re-checked on every request; every POST carries the session's CSRF token (sign-in: a
/// double-submit cookie); personal data is masked unless revealed by a recorded POST; no
/// personal value ever goes into a URL (searches are POSTed).
public struct ConsoleController<Store: SyncStore>: Sendable {
    let store: Store
    let schema: SyncSchema
    let sessions: ConsoleSessions
    /// A dealer not seen for this long is shown as silent.
    let silentAfterMillis: Int64
    /// The fleet's quality scores, computed at most once a minute (a scan of HQ's tables).
    private let qualityCache = QualityScoreCache()

    static var sessionCookie: String { "dealersync_console" }
    static var loginCookie: String { "dealersync_console_login" }

    init(store: Store, schema: SyncSchema, sessions: ConsoleSessions = ConsoleSessions(), silentAfterMillis: Int64 = 15 * 60_000) {
        self.store = store
        self.schema = schema
        self.sessions = sessions
        self.silentAfterMillis = silentAfterMillis
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/console/static/console.css") { _, _ in Self.asset(ConsoleAssets.css, type: "text/css; charset=utf-8") }
        router.get("/console/static/console.js") { _, _ in Self.asset(ConsoleAssets.js, type: "text/javascript; charset=utf-8") }
        router.get("/console/login") { request, _ in loginPage(request, error: nil, status: .ok) }
        router.post("/console/login") { request, _ in try await signIn(request) }
        router.post("/console/logout") { request, _ in try await signOut(request) }
        router.get("/console") { request, _ in try await page(request) { page in try await fleet(request, page) } }
        router.get("/console/dealers/{id}") { request, context in
            let id = try context.parameters.require("id")
            return try await page(request) { page in try await dealer(id, page) }
        }
        router.get("/console/customers") { request, _ in
            try await page(request) { page in Self.html(ConsoleTemplates.render("customers", CustomersPage(page: page, error: nil, searched: false, results: []))) }
        }
        router.post("/console/customers") { request, _ in
            try await page(request, form: true) { page, form in try await search(form, page) }
        }
        router.get("/console/customers/{id}") { request, context in
            let id = try context.parameters.require("id")
            return try await page(request) { page in try await customer(id, page, reveal: false) }
        }
        router.post("/console/customers/{id}/reveal") { request, context in
            let id = try context.parameters.require("id")
            return try await page(request, form: true) { page, _ in try await customer(id, page, reveal: true) }
        }
    }

    // MARK: Sessions

    private func loginPage(_ request: Request, error: String?, status: HTTPResponse.Status) -> Response {
        let token = ConsoleSessions.randomToken()
        var response = Self.html(
            ConsoleTemplates.render("login", LoginPage(page: ConsolePage(title: "Sign in", signedIn: false), error: error, loginCSRF: token)),
            status: status)
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.loginCookie, token, request: request, maxAge: 900)))
        return response
    }

    private func signIn(_ request: Request) async throws -> Response {
        let form = FormBody(try await Self.body(request))
        guard let expected = Self.cookies(request)[Self.loginCookie], let sent = form["csrf"], ConsoleSessions.constantTimeEqual(expected, sent) else {
            return loginPage(request, error: "The sign-in form expired or did not come from this page. Sign in again.", status: .forbidden)
        }
        let token = form["token"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let hash = Tokens.sha256(of: token)
        guard !token.isEmpty, let principal = try await store.principal(tokenSHA256: hash), !principal.revoked,
            principal.kind == .reader || principal.kind == .writer
        else {
            return loginPage(
                request, error: "That token is not a valid reader token of this HQ. Create one with `dealersync hq add-reader NAME`.",
                status: .unauthorized)
        }
        let session = sessions.start(principalID: principal.id, tokenSHA256: hash)
        var response = Self.redirect("/console")
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.sessionCookie, session, request: request, maxAge: 8 * 3_600)))
        return response
    }

    private func signOut(_ request: Request) async throws -> Response {
        try await page(request, form: true) { _, _ in
            if let id = Self.cookies(request)[Self.sessionCookie] { sessions.end(id) }
            var response = Self.redirect("/console/login")
            response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.sessionCookie, "", request: request, maxAge: 0)))
            return response
        }
    }

    /// The signed-in user's page, or the way to sign in.
    private func page(_ request: Request, _ body: (ConsolePage) async throws -> Response) async throws -> Response {
        guard let (session, page) = try await signedIn(request) else { return Self.redirect("/console/login") }
        _ = session
        return try await body(page)
    }

    /// A POST from a signed-in user with the session's CSRF token; else 403.
    private func page(_ request: Request, form: Bool, _ body: (ConsolePage, FormBody) async throws -> Response) async throws -> Response {
        guard let (session, page) = try await signedIn(request) else {
            return problem(.forbidden, "Not signed in", "This form needs a signed-in session.", hint: "Sign in again, then repeat what you did.")
        }
        let fields = FormBody(try await Self.body(request))
        guard let sent = fields["csrf"], ConsoleSessions.constantTimeEqual(sent, session.csrfToken) else {
            return problem(
                .forbidden, "Form refused", "The form did not carry this session's CSRF token, so it may not have come from this console.",
                hint: "Reload the page and submit the form again.", page: page)
        }
        return try await body(page, fields)
    }

    private func signedIn(_ request: Request) async throws -> (ConsoleSessions.Session, ConsolePage)? {
        guard let id = Self.cookies(request)[Self.sessionCookie], let session = sessions.touch(id) else { return nil }
        // A revoked token ends its sessions at once.
        guard let principal = try await store.principal(tokenSHA256: session.tokenSHA256), !principal.revoked else {
            sessions.endAll(of: session.principalID)
            return nil
        }
        return (session, ConsolePage(title: "", signedIn: true, principal: principal.id, csrf: session.csrfToken))
    }

    // MARK: Pages

    private func fleet(_ request: Request, _ page: ConsolePage) async throws -> Response {
        let now = Date.nowMillis
        async let statuses = store.status(schema: schema)
        async let pushed = store.rowsPushed(sinceMillis: now - 3_600_000)
        let scores = await qualityScores()
        let query = request.uri.queryParameters
        let q = query["q"].map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        let stateFilter = query["state"].map(String.init) ?? ""
        let sort = query["sort"].map(String.init).flatMap { key in FleetPage.sortable.contains { $0.key == key } ? key : nil } ?? "state"
        let descending = (query["dir"].map(String.init) ?? (sort == "state" ? "asc" : "desc")) == "desc"
        var dealers: [FleetPage.Dealer] = []
        var counts = (silent: 0, captureOff: 0, deadLetters: 0, backlog: 0)
        let pushRates = try await pushed
        for status in try await statuses {
            let state = FleetPage.state(of: status, nowMillis: now, silentAfterMillis: silentAfterMillis)
            if state.label == "silent" { counts.silent += 1 }
            if status.capture?.state == .off { counts.captureOff += 1 }
            counts.deadLetters += status.deadLetters
            counts.backlog += status.backlog
            let score = scores[status.id]
            dealers.append(FleetPage.Dealer(
                id: status.id, name: status.name ?? "", state: state.label, stateClass: state.cls,
                lastSeen: status.lastSeenMillis.map(ConsoleTime.iso), lastSeenText: status.lastSeenMillis.map(ConsoleTime.text) ?? "",
                backlog: status.backlog, pushRate: pushRates[status.id] ?? 0,
                clockSkew: status.clockSkewMillis.map { Self.duration(millis: $0) } ?? "—",
                capture: status.capture.map { "\($0.state.rawValue) · \($0.tables) tables" } ?? "—", deadLetters: status.deadLetters,
                conflicts: status.conflicts, held: status.health.map { String($0.heldRows) } ?? "—", quality: score.map { "\(Int(($0 * 100).rounded()))%" } ?? "—",
                lastSeenMillis: status.lastSeenMillis ?? 0, clockSkewMillis: status.clockSkewMillis ?? 0, qualityScore: score ?? 2))
        }
        let total = dealers.count
        let stateRank = ["revoked": 0, "capture off": 1, "silent": 2, "never seen": 3, "repairing": 4, "dead letters": 5, "ok": 6]
        dealers = dealers.filter { dealer in
            (q.isEmpty || dealer.id.localizedCaseInsensitiveContains(q) || dealer.name.localizedCaseInsensitiveContains(q))
                && (stateFilter.isEmpty || dealer.state == stateFilter)
        }
        if sort == "state" {
            dealers.sort { (stateRank[$0.state] ?? 9, $0.id) < (stateRank[$1.state] ?? 9, $1.id) }
            if descending { dealers.reverse() }
        } else {
            dealers = FleetPage.sorted(dealers, by: sort, descending: descending)
        }
        func link(_ key: String) -> String {
            let dir = key == sort ? (descending ? "asc" : "desc") : (FleetPage.sortable.first { $0.key == key }?.numeric == true ? "desc" : "asc")
            var components = URLComponents()
            components.path = "/console"
            components.queryItems = [URLQueryItem(name: "sort", value: key), URLQueryItem(name: "dir", value: dir)]
                + (q.isEmpty ? [] : [URLQueryItem(name: "q", value: q)]) + (stateFilter.isEmpty ? [] : [URLQueryItem(name: "state", value: stateFilter)])
            return components.string ?? "/console"
        }
        var titled = page
        titled.title = "Fleet"
        let model = FleetPage(
            page: titled, dealerCount: total,
            cards: [
                .init(label: "Dealers", value: "\(total)"), .init(label: "Silent", value: "\(counts.silent)", cls: counts.silent > 0 ? "state-bad" : ""),
                .init(label: "Capture off", value: "\(counts.captureOff)", cls: counts.captureOff > 0 ? "state-bad" : ""),
                .init(label: "Dead letters", value: "\(counts.deadLetters)", cls: counts.deadLetters > 0 ? "state-warn" : ""),
                .init(label: "Rows waiting for stores", value: "\(counts.backlog)"),
            ],
            q: q,
            states: ([""] + stateRank.sorted { $0.value < $1.value }.map(\.key)).map { .init(value: $0, label: $0.isEmpty ? "any" : $0, selected: $0 == stateFilter) },
            sort: sort, dir: descending ? "desc" : "asc",
            columns: FleetPage.sortable.map { column in
                .init(
                    label: column.label, href: link(column.key), cls: (column.numeric ? "num" : "") + (column.key == "held" ? " hide-narrow" : ""),
                    arrow: column.key == sort ? (descending ? " ▼" : " ▲") : "", current: column.key == sort ? (descending ? "descending" : "ascending") : nil)
            },
            dealers: dealers, shown: dealers.count, silentMinutes: Int(silentAfterMillis / 60_000))
        return Self.html(ConsoleTemplates.render("fleet", model))
    }

    private func dealer(_ id: String, _ page: ConsolePage) async throws -> Response {
        let now = Date.nowMillis
        guard let status = try await store.status(schema: schema, dealer: id) else {
            return problem(.notFound, "No such dealer", "HQ has no dealer \(id).", hint: "Pick a dealer from the fleet page.", page: page)
        }
        let activity = try await store.dealerActivity(dealer: id, limit: 50, sinceMillis: now - 7 * 86_400_000)
        let issues = (try? await store.qualityIssues(dealer: id, schema: schema, limit: 200)) ?? []
        let score = await qualityScores()[id]
        let state = FleetPage.state(of: status, nowMillis: now, silentAfterMillis: silentAfterMillis)
        let personal = personalColumns
        func values(_ json: String?, column: String?) -> String {
            guard let json else { return "" }
            // Conflict values are JSON arrays of typed values; personal columns are masked.
            guard let column, personal.contains(column.lowercased()) else { return json }
            let decoded = (try? JSONDecoder().decode([TypedValue].self, from: Data(json.utf8))) ?? []
            return decoded.isEmpty ? "***" : decoded.map { PersonalDataMask.mask($0.value) }.joined(separator: ", ")
        }
        var titled = page
        titled.title = id
        let model = DealerPage(
            page: titled, id: id, name: status.name ?? "", state: state.label, stateClass: state.cls,
            cards: [
                .init(label: "Last seen", value: status.lastSeenMillis.map(ConsoleTime.text) ?? "never"),
                .init(label: "Backlog", value: "\(status.backlog)"), .init(label: "Batches", value: "\(status.batches)"),
                .init(label: "Clock skew", value: status.clockSkewMillis.map { Self.duration(millis: $0) } ?? "—"),
                .init(label: "Capture", value: status.capture.map { $0.state.rawValue } ?? "—", cls: status.capture?.state == .off ? "state-bad" : ""),
                .init(label: "Dead letters", value: "\(status.deadLetters)", cls: status.deadLetters > 0 ? "state-warn" : ""),
                .init(label: "Conflicts", value: "\(status.conflicts)"),
                .init(label: "Agent", value: status.health?.agentVersion ?? "?"),
                .init(label: "Pending at the store", value: status.health.map { "\($0.pendingChanges + $0.outboxRows)" } ?? "?"),
                .init(label: "Held rows", value: status.health.map { "\($0.heldRows)" } ?? "?", cls: (status.health?.heldRows ?? 0) > 0 ? "state-warn" : ""),
                .init(label: "Disk free", value: status.health?.freeDiskMB.map { "\($0 / 1024) GiB" } ?? "?", cls: (status.health?.freeDiskMB ?? Int.max) < 1024 ? "state-bad" : ""),
                .init(label: "Last error", value: status.health.map { $0.lastError ?? "none" } ?? "?", cls: status.health?.lastError != nil ? "state-warn" : ""),
            ],
            backlogChart: SVGChart(title: "Backlog of \(id), last 7 days", points: activity.history.map { ($0.atMillis, Double($0.backlog)) }).svg,
            pushChart: SVGChart(title: "Rows pushed by \(id), last 7 days", points: activity.history.map { ($0.atMillis, Double($0.rowsPushed)) }).svg,
            batches: activity.batches.map {
                .init(id: $0.id, rows: $0.rows, bytes: $0.compressedBytes, at: ConsoleTime.iso($0.atMillis), atText: ConsoleTime.text($0.atMillis))
            },
            deadLetters: activity.deadLetters.map {
                .init(at: ConsoleTime.iso($0.atMillis), atText: ConsoleTime.text($0.atMillis), batch: $0.batch, row: $0.row, table: $0.table, reason: $0.reason)
            },
            conflicts: activity.conflicts.map {
                .init(
                    where: "\($0.table).\($0.column ?? "(row)")", reason: $0.reason, winner: $0.winner,
                    winningValue: values($0.winningValue, column: $0.column), losers: $0.losers, losingValues: values($0.losingValues, column: $0.column),
                    at: ConsoleTime.iso($0.atMillis), atText: ConsoleTime.text($0.atMillis))
            },
            qualityScore: score.map { "score \(Int(($0 * 100).rounded()))%" } ?? "no rules",
            issues: issues.map { .init(table: $0.table, key: $0.key.map { PersonalDataMask.plain($0.value) }.joined(separator: ", "), column: $0.column, hint: $0.hint) })
        return Self.html(ConsoleTemplates.render("dealer", model))
    }

    private func search(_ form: FormBody, _ page: ConsolePage) async throws -> Response {
        var titled = page
        titled.title = "Customers"
        guard let kind = form["kind"].flatMap(CustomerQuery.Kind.init(rawValue:)), let value = form["value"] else {
            return Self.html(ConsoleTemplates.render("customers", CustomersPage(page: titled, error: "Choose what to find by and type a value.", searched: false, results: [])), status: .badRequest)
        }
        let query = CustomerQuery(kind: kind, value: value)
        guard query.normalized != nil else {
            return Self.html(ConsoleTemplates.render("customers", CustomersPage(
                page: titled, error: "That \(kind.rawValue) is not valid, or is a placeholder that identifies nobody. Check the digits.",
                searched: false, results: [])), status: .badRequest)
        }
        let ids: [String]
        do {
            ids = try await store.findCustomers(query)
        } catch let error as StoreError {
            return Self.html(ConsoleTemplates.render("customers", CustomersPage(page: titled, error: "\(error.message). \(error.hint)", searched: false, results: [])))
        }
        var results: [CustomersPage.Result] = []
        for id in ids.prefix(20) {
            guard let customer = try await store.customer(id: id) else { continue }
            try await record(page.principal, query: "console:\(kind.rawValue)", person: id, records: customer.records.count)
            results.append(.init(
                id: id, name: Self.goldenName(customer).map(PersonalDataMask.mask) ?? "",
                stores: Set(customer.records.map(\.dealer)).sorted().joined(separator: ", "), responsible: customer.responsibleDealer ?? "—"))
        }
        if results.isEmpty { try await record(page.principal, query: "console:\(kind.rawValue)", person: nil, records: 0) }
        return Self.html(ConsoleTemplates.render("customers", CustomersPage(page: titled, error: nil, searched: true, results: results)))
    }

    private func customer(_ id: String, _ page: ConsolePage, reveal: Bool) async throws -> Response {
        let found: CustomerHistory?
        do {
            found = try await store.customer(id: id)
        } catch let error as StoreError {
            return problem(.notFound, "Customers are not linked here", error.message, hint: error.hint, page: page)
        }
        guard let customer = found else {
            return problem(.notFound, "No such customer", "HQ has no customer \(id).", hint: "Find the customer by mobile, ID number or VIN.", page: page)
        }
        try await record(page.principal, query: reveal ? "console:reveal" : "console:view", person: id, records: customer.records.count)
        let personal = personalColumns
        func show(_ column: String, _ value: TypedValue) -> String {
            reveal || !personal.contains(column.lowercased()) ? PersonalDataMask.plain(value.value) : PersonalDataMask.mask(value.value)
        }
        func section(_ title: String, _ records: [StoreRecord]) -> CustomerPage.Section {
            let columns = Array(Set(records.flatMap { $0.values.keys })).sorted()
            return .init(
                title: title, columns: columns,
                rows: records.map { record in
                    .init(
                        dealer: record.dealer, key: record.key.map { PersonalDataMask.plain($0.value) }.joined(separator: ", "),
                        cells: columns.map { column in record.values[column].map { show(column, $0) } ?? "" })
                })
        }
        let keyText = { (key: [TypedValue]) in key.map { PersonalDataMask.plain($0.value) }.joined(separator: ", ") }
        var titled = page
        titled.title = id
        let name = Self.goldenName(customer).map { reveal ? $0 : PersonalDataMask.mask($0) } ?? ""
        let model = CustomerPage(
            page: titled, id: id, name: name, masked: !reveal, responsible: customer.responsibleDealer ?? "—",
            golden: customer.golden.sorted { $0.key < $1.key }.map { .init(column: $0.key, value: show($0.key, $0.value)) },
            sections: [section("Store records", customer.records), section("Vehicles", customer.vehicles), section("History", customer.history)],
            links: customer.links.map { .init(a: keyText($0.a), b: keyText($0.b), rule: $0.rule, confidence: String(format: "%.2f", $0.confidence), madeBy: $0.madeBy) })
        return Self.html(ConsoleTemplates.render("customer", model))
    }

    // MARK: Helpers

    /// Columns masked by default: the people table's identifying columns and its other
    /// columns, except its key and routing column (docs/CONSOLE.md).
    private var personalColumns: Set<String> {
        guard let identity = schema.identity, let people = schema.table(named: identity.people.table) else {
            return ["name", "mobile", "id_number", "birth_date", "address", "email", "wechat"]
        }
        var columns = Set([identity.people.mobile, identity.people.idNumber, identity.people.name, identity.people.birthDate].compactMap { $0?.lowercased() })
        for column in people.columns ?? [] where !(people.key ?? []).contains(column.name) && column.name != people.routingColumn && people.owners[column.name] != .hq {
            columns.insert(column.name.lowercased())
        }
        return columns
    }

    private static func goldenName(_ customer: CustomerHistory) -> String? {
        guard case .text(let name)? = customer.golden["name"]?.value else { return nil }
        return name
    }

    private func record(_ who: String, query: String, person: String?, records: Int) async throws {
        try? await store.recordLookup(CustomerLookup(
            atMillis: Date.nowMillis, who: who, kind: "console", queryKind: query, person: person, records: records))
    }

    private func qualityScores() async -> [String: Double] {
        if let cached = qualityCache.fresh() { return cached }
        let report = try? await store.qualityReport(schema: schema, dealer: nil)
        let scores = Dictionary((report?.dealers ?? []).map { ($0.dealer, $0.score) }, uniquingKeysWith: { a, _ in a })
        qualityCache.store(scores)
        return scores
    }

    private func problem(_ status: HTTPResponse.Status, _ heading: String, _ message: String, hint: String, page: ConsolePage? = nil) -> Response {
        var page = page ?? ConsolePage(title: heading, signedIn: false)
        page.title = heading
        return Self.html(ConsoleTemplates.render("problem", ProblemPage(page: page, heading: heading, message: message, hint: hint)), status: status)
    }

    static func duration(millis: Int64) -> String {
        let seconds = Double(millis) / 1000
        return abs(seconds) < 120 ? String(format: "%+.1f s", seconds) : String(format: "%+.0f min", seconds / 60)
    }

    /// Every console response's security headers.
    static func secured(_ response: inout Response) {
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var response = Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
        secured(&response)
        return response
    }

    static func asset(_ text: String, type: String) -> Response {
        var response = Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=3600"], body: .init(byteBuffer: ByteBuffer(string: text)))
        secured(&response)
        return response
    }

    static func redirect(_ location: String) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
        secured(&response)
        return response
    }

    /// `Secure` when the request came over TLS (nginx sets X-Forwarded-Proto, docs/CONSOLE.md).
    static func cookie(_ name: String, _ value: String, request: Request, maxAge: Int) -> String {
        let secure = request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
        return "\(name)=\(value); Path=/console; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)" + (secure ? "; Secure" : "")
    }

    static func cookies(_ request: Request) -> [String: String] {
        var cookies: [String: String] = [:]
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                cookies[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return cookies
    }

    static func body(_ request: Request) async throws -> [UInt8] {
        try await RequestBody.collect(request, limit: 16 << 10) { HQError.tooLarge("the form is over 16 KiB", hint: "forms are small; reload the page") }
    }
}

/// The fleet's quality scores for a minute: they come from a scan of HQ's tables.
final class QualityScoreCache: Sendable {
    private let value = Mutex<(at: ContinuousClock.Instant, scores: [String: Double])?>(nil)

    func fresh() -> [String: Double]? {
        value.withLock { cached in cached.flatMap { ContinuousClock.now - $0.at < .seconds(60) ? $0.scores : nil } }
    }

    func store(_ scores: [String: Double]) { value.withLock { $0 = (ContinuousClock.now, scores) } }
}
