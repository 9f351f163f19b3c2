// Temporary stand-in for the transport API being built on branch agent-transport;
// deleted when that branch is merged.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method; self.url = url; self.headers = headers; self.body = body
    }
}
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    public var receivedAtMillis: Int64
}
public protocol DeltaTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
public struct TransportError: Error {
    public var message: String
    public var hint: String
}
public struct RetryPolicy: Sendable {
    public init() {}
    public func delayMillis(attempt: Int, retryAfterSeconds: Int?, using generator: inout some RandomNumberGenerator) -> Int64 { 0 }
    public func isRetryable(status: Int) -> Bool { false }
}
public enum RetryAfter { public static func seconds(from value: String) -> Int? { Int(value) } }
public struct SystemdNotifier: Sendable {
    public init() {}
    @discardableResult public func ready() -> Bool { true }
    @discardableResult public func watchdog() -> Bool { true }
    @discardableResult public func status(_ text: String) -> Bool { true }
    @discardableResult public func stopping() -> Bool { true }
}
public struct TransportSettings: Sendable {
    public var verifyTLS = true
    public var caFile: String?
    public var clientCertificate: String?
    public var clientKey: String?
    public var proxy: String?
    public var connectTimeoutMillis = 10_000
    public var lowSpeedLimitBytesPerSecond = 100
    public var lowSpeedTimeSeconds = 30
    public var totalTimeoutSeconds = 300
    public init() {}
}
public final class CurlTransport: DeltaTransport {
    public init(settings: TransportSettings) {}
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse { throw TransportError(message: "", hint: "") }
}
