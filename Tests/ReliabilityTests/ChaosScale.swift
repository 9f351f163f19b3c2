import Foundation

/// How big the reliability scenarios run. CI runs them at scale 1 (bounded, minutes in a
/// debug build); `scripts/chaos` sets `DEALERSYNC_CHAOS_SCALE` (e.g. 7) for the long run.
enum ChaosScale {
    static let factor: Double = {
        guard let raw = ProcessInfo.processInfo.environment["DEALERSYNC_CHAOS_SCALE"], let value = Double(raw), value > 0 else { return 1 }
        return value
    }()

    /// `ci` times the scale, at least `ci`.
    static func count(_ ci: Int) -> Int { max(ci, Int((Double(ci) * factor).rounded())) }

    /// A seed for this run: `DEALERSYNC_CHAOS_SEED` to replay one, else random (printed by each test).
    static func seed() -> UInt64 {
        if let raw = ProcessInfo.processInfo.environment["DEALERSYNC_CHAOS_SEED"], let value = UInt64(raw) { return value }
        return UInt64.random(in: 1...UInt64(UInt32.max))
    }
}

/// Seconds since `start`, formatted for the printed figures.
func elapsed(since start: Date) -> String { String(format: "%.1fs", Date().timeIntervalSince(start)) }
