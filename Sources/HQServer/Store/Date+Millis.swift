import Foundation

extension Date {
    /// Wall-clock milliseconds since 1970, rounded: what HQ stores and sends as a time.
    public static var nowMillis: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
