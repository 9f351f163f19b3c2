/// A `/v1/feed` reader's cursor.
///
/// `c1.N` (`Cursor`): the reader has every change up to sequence N. At and below the
/// retention horizon H the feed holds only each row's current version, so a reader walking
/// it from `c1.0` is given `s1.N.H` there: it has every row's current version up to N, as the
/// feed stood while the horizon was H. The walk stays valid while the horizon does not move
/// (the entries above N it still needs are all there), and gets `c1.` cursors once past H.
enum FeedCursor: Equatable {
    case changes(after: UInt64)
    case snapshot(after: UInt64, horizon: UInt64)

    var after: UInt64 {
        switch self {
        case .changes(let after): return after
        case .snapshot(let after, _): return after
        }
    }

    var encoded: String {
        switch self {
        case .changes(let after): return Cursor.encode(after)
        case .snapshot(let after, let horizon): return "s1.\(after).\(horizon)"
        }
    }

    /// The cursor after a page that ends at `last`, read while the horizon stood at `horizon`.
    static func next(after last: UInt64, horizon: UInt64) -> FeedCursor {
        last < horizon ? .snapshot(after: last, horizon: horizon) : .changes(after: last)
    }

    /// Whether a reader here may have missed changes the feed no longer holds: a cursor
    /// between 0 and the horizon, or a walk from `c1.0` that the horizon moved under.
    func isBehind(horizon: UInt64) -> Bool {
        switch self {
        case .changes(let after): return after > 0 && after < horizon
        case .snapshot(_, let walked): return walked != horizon
        }
    }

    /// Parses `after=`; absent or empty is the beginning.
    static func decode(_ text: Substring?) throws -> FeedCursor {
        guard let text, text.hasPrefix("s1.") else { return .changes(after: try Cursor.decode(text)) }
        let parts = text.dropFirst(3).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let after = UInt64(parts[0]), let horizon = UInt64(parts[1]) else {
            throw HQError.badRequest("after= is not a cursor issued by this HQ", hint: "pass the X-Dealersync-Cursor of the previous page, or omit after= to start over")
        }
        return .snapshot(after: after, horizon: horizon)
    }
}
