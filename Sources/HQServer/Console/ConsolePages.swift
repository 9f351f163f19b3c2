import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Mustache
import SyncCore

/// What each console page shows, built from the store's answers; the templates only lay
/// it out (ConsoleTemplates). Stored properties only: templates read values by reflection.
/// Every page model has `page`, which the shared head reads (`{{page.title}}`).
struct ConsolePage {
    var title: String
    var signedIn = true
    var principal = ""
    var csrf = ""
}

struct LoginPage {
    var page: ConsolePage
    var error: String?
    var loginCSRF: String
}

struct ProblemPage {
    var page: ConsolePage
    var heading: String
    var message: String
    var hint: String
}

struct FleetPage {
    struct Card {
        var label: String
        var value: String
        var cls = ""
    }

    struct Column {
        var label: String
        var href: String
        var cls: String
        var arrow: String
        var current: String?
    }

    struct State {
        var value: String
        var label: String
        var selected: Bool
    }

    struct Dealer {
        var id: String
        var name: String
        var state: String
        var stateClass: String
        var lastSeen: String?
        var lastSeenText: String
        var backlog: Int
        var pushRate: Int
        var clockSkew: String
        var capture: String
        var deadLetters: Int
        var conflicts: Int
        var held: String
        var quality: String
        // Sort keys.
        var lastSeenMillis: Int64
        var clockSkewMillis: Int64
        var qualityScore: Double
    }

    var page: ConsolePage
    var dealerCount: Int
    var cards: [Card]
    var q: String
    var states: [State]
    var sort: String
    var dir: String
    var columns: [Column]
    var dealers: [Dealer]
    var shown: Int
    var silentMinutes: Int


    /// Dealer states, worst first; `silent` is not seen for `silentAfterMillis`.
    static func state(of dealer: DealerStatus, nowMillis: Int64, silentAfterMillis: Int64) -> (label: String, cls: String) {
        if dealer.revoked { return ("revoked", "state-bad") }
        if dealer.capture?.state == .off { return ("capture off", "state-bad") }
        guard dealer.lastSeenMillis != nil else { return ("never seen", "state-warn") }
        if dealer.isSilent(nowMillis: nowMillis, afterMillis: silentAfterMillis) { return ("silent", "state-bad") }
        if dealer.capture?.state == .repairing { return ("repairing", "state-warn") }
        if dealer.deadLetters > 0 { return ("dead letters", "state-warn") }
        return ("ok", "state-ok")
    }

    static let sortable: [(key: String, label: String, numeric: Bool)] = [
        ("id", "Dealer", false), ("name", "Name", false), ("state", "State", false), ("last_seen", "Last seen", false),
        ("backlog", "Backlog", true), ("push_rate", "Push rate", true), ("clock_skew", "Clock skew", true), ("capture", "Capture", false),
        ("dead_letters", "Dead letters", true), ("conflicts", "Conflicts", true), ("held", "Held rows", true), ("quality", "Quality", true),
    ]

    static func sorted(_ dealers: [Dealer], by key: String, descending: Bool) -> [Dealer] {
        func less(_ a: Dealer, _ b: Dealer) -> Bool {
            switch key {
            case "name": a.name < b.name
            case "state": a.state < b.state
            case "last_seen": a.lastSeenMillis < b.lastSeenMillis
            case "backlog": a.backlog < b.backlog
            case "push_rate": a.pushRate < b.pushRate
            case "clock_skew": abs(a.clockSkewMillis) < abs(b.clockSkewMillis)
            case "capture": a.capture < b.capture
            case "dead_letters": a.deadLetters < b.deadLetters
            case "conflicts": a.conflicts < b.conflicts
            case "quality": a.qualityScore < b.qualityScore
            default: a.id < b.id
            }
        }
        // Ties keep dealer id order, so the page is the same on every reload.
        return dealers.sorted { a, b in
            if less(a, b) == less(b, a) { return a.id < b.id }
            return descending ? less(b, a) : less(a, b)
        }
    }
}

struct DealerPage {
    struct Row {
        var id = ""
        var rows = 0
        var bytes = 0
        var at = ""
        var atText = ""
        var batch = ""
        var row = 0
        var table = ""
        var reason = ""
    }

    struct Conflict {
        var `where`: String
        var reason: String
        var winner: String
        var winningValue: String
        var losers: String
        var losingValues: String
        var at: String
        var atText: String
    }

    struct Issue {
        var table: String
        var key: String
        var column: String
        var hint: String
    }

    var page: ConsolePage
    var id: String
    var name: String
    var state: String
    var stateClass: String
    var cards: [FleetPage.Card]
    var backlogChart: String
    var pushChart: String
    var batches: [Row]
    var deadLetters: [Row]
    var conflicts: [Conflict]
    var qualityScore: String
    var issues: [Issue]
}

struct CustomersPage {
    struct Result {
        var id: String
        var name: String
        var stores: String
        var responsible: String
    }

    var page: ConsolePage
    var error: String?
    var searched: Bool
    var results: [Result]
}

struct CustomerPage {
    struct Field {
        var column: String
        var value: String
    }

    struct Section {
        var title: String
        var columns: [String]
        var rows: [Record]
    }

    struct Record {
        var dealer: String
        var key: String
        var cells: [String]
    }

    struct Link {
        var a: String
        var b: String
        var rule: String
        var confidence: String
        var madeBy: String
    }

    var page: ConsolePage
    var id: String
    var name: String
    var masked: Bool
    var responsible: String
    var golden: [Field]
    var sections: [Section]
    var links: [Link]
}

/// Times as the pages write them: ISO 8601 UTC in `datetime` (the script shows the viewer's
/// zone), and a readable UTC text for browsers without script. `gmtime_r`, not a formatter:
/// a fleet page writes two for each of a thousand dealers.
enum ConsoleTime {
    static func iso(_ millis: Int64) -> String {
        let t = parts(millis)
        return "\(t.date)T\(t.time)Z"
    }

    static func text(_ millis: Int64) -> String {
        let t = parts(millis)
        return "\(t.date) \(t.time) UTC"
    }

    private static func parts(_ millis: Int64) -> (date: String, time: String) {
        var seconds = time_t(millis / 1000)
        var value = tm()
        gmtime_r(&seconds, &value)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return ("\(value.tm_year + 1900)-\(two(value.tm_mon + 1))-\(two(value.tm_mday))", "\(two(value.tm_hour)):\(two(value.tm_min)):\(two(value.tm_sec))")
    }
}

/// A fleet row names its fields itself: the template reads twelve of them for each of a
/// thousand dealers, and reflection (`Mirror`) made that most of the fleet page's time.
extension FleetPage.Dealer: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "name": self.name
        case "state": state
        case "stateClass": stateClass
        case "lastSeen": lastSeen as Any
        case "lastSeenText": lastSeenText
        case "backlog": backlog
        case "pushRate": pushRate
        case "clockSkew": clockSkew
        case "capture": capture
        case "deadLetters": deadLetters
        case "conflicts": conflicts
        case "held": held
        case "quality": quality
        default: nil
        }
    }
}
