import Crypto

/// The SHA-256 of a request body, as lowercase hex: sent by the agent in the
/// `X-Dealersync-SHA256` header over the compressed bytes and checked by HQ before it
/// decompresses anything.
public enum BodyChecksum {
    public static let headerName = "X-Dealersync-SHA256"

    public static func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
