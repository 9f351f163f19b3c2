import SyncCore

/// Bearer tokens: 32 random bytes from the system's secure generator, as 64 hex digits.
/// HQ stores only their SHA-256, so a copy of the store does not let anyone push.
public enum Tokens {
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ -> String in
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            return byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined()
    }

    public static func sha256(of token: String) -> String { BodyChecksum.sha256Hex(Array(token.utf8)) }
}
