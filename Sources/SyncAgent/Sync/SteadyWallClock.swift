import Foundation
import Synchronization

/// The agent's wall clock: read from the system once per process, then advanced by the
/// monotonic clock (`ContinuousClock`, which keeps counting through suspend).
///
/// A store PC's clock jumps: someone sets it, a flat CMOS battery resets it, NTP steps it.
/// Read directly, a jump of a day while the agent runs offline made it stamp writes a day
/// ahead (the offset to HQ that corrects a wrong clock is measured only when HQ answers),
/// and those writes would win every later conflict. This clock only moves forward at the
/// rate time passes; the offset to HQ, measured on every exchange with this same clock,
/// keeps the stamps on HQ's time. A jump before the process starts is caught differently:
/// the first cycle of each process measures the offset before it stamps (`SyncCycle`).
public enum SteadyWallClock {
    private static let anchor = (wallMillis: Int64((Date().timeIntervalSince1970 * 1000).rounded()), instant: ContinuousClock.now)

    public static func nowMillis() -> Int64 {
        let elapsed = ContinuousClock.now - anchor.instant
        return anchor.wallMillis + elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }
}

/// Whether this process has measured the clock offset to HQ yet.
final class OffsetMeasured: Sendable {
    private let measured = Atomic<Bool>(false)
    var value: Bool { measured.load(ordering: .relaxed) }
    func set() { measured.store(true, ordering: .relaxed) }
}
