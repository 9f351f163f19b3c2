/// A hybrid logical clock (Kulkarni et al., 2014) as a plain value: the caller passes the
/// wall-clock reading in, so the clock is testable without time and never reads it itself.
///
/// Rules:
/// - `now`: the reading is the larger of the corrected wall clock and the last reading;
///   if the last reading is not behind, its logical part is incremented. Readings are
///   strictly increasing even when the wall clock steps back by a day.
/// - `receive`: the same, but also past a remote reading, so an event caused by a remote
///   one is always later than it. A remote reading further ahead of the corrected wall
///   clock than `maxForwardDriftMillis` is refused: one PC with a clock a year ahead must
///   not drag every other clock with it.
/// - `offsetMillis` corrects the local wall clock by the offset measured against HQ on
///   every exchange, so a store PC whose clock is a day off writes readings near HQ's time
///   and does not win every last-writer-wins decision.
public struct HybridLogicalClock: Sendable {
    public private(set) var last: HLCTimestamp
    /// Added to every wall-clock reading: HQ's clock minus ours, as last measured.
    public private(set) var offsetMillis: Int64
    /// How far ahead of our corrected wall clock a received reading may be.
    public let maxForwardDriftMillis: UInt64

    public init(last: HLCTimestamp = .zero, offsetMillis: Int64 = 0, maxForwardDriftMillis: UInt64 = 5 * 60 * 1000) {
        self.last = last
        self.offsetMillis = offsetMillis
        self.maxForwardDriftMillis = maxForwardDriftMillis
    }

    /// Sets the correction measured against HQ (HQ's time minus ours). Readings stay
    /// monotonic: a correction backwards only slows the physical part until time catches up.
    public mutating func setOffset(millis: Int64) { offsetMillis = millis }

    /// The reading for a local event at wall-clock time `wallMillis` (ms since 1970).
    public mutating func now(wallMillis: Int64) -> HLCTimestamp {
        advance(past: last, physical: corrected(wallMillis))
    }

    /// The reading for receiving `remote` at wall-clock time `wallMillis`. Throws
    /// `clockTooFarAhead` (and leaves the clock unchanged) when `remote` is beyond the bound.
    public mutating func receive(_ remote: HLCTimestamp, wallMillis: Int64) throws -> HLCTimestamp {
        let physical = corrected(wallMillis)
        if remote.physicalMillis > physical && remote.physicalMillis - physical > maxForwardDriftMillis {
            throw SyncCoreError(
                .clockTooFarAhead,
                "a received clock reading is \(remote.physicalMillis - physical) ms ahead of ours, over the \(maxForwardDriftMillis) ms allowed",
                hint: "check the sending node's clock (timedatectl) and that its offset to HQ is measured")
        }
        return advance(past: max(last, remote), physical: physical)
    }

    private func corrected(_ wallMillis: Int64) -> UInt64 {
        let (sum, overflow) = wallMillis.addingReportingOverflow(offsetMillis)
        if overflow { return offsetMillis > 0 ? (1 << 48) - 1 : 0 }
        return UInt64(clamping: min(max(sum, 0), (1 << 48) - 1))
    }

    private mutating func advance(past previous: HLCTimestamp, physical: UInt64) -> HLCTimestamp {
        let next: HLCTimestamp
        if physical > previous.physicalMillis {
            next = HLCTimestamp(physicalMillis: physical, logical: 0)
        } else if previous.logical < HLCTimestamp.maxLogical {
            next = HLCTimestamp(rawValue: previous.rawValue + 1)
        } else {
            // 65,536 events in one millisecond: borrow the next millisecond rather than wrap.
            next = HLCTimestamp(physicalMillis: previous.physicalMillis + 1, logical: 0)
        }
        last = next
        return next
    }
}
