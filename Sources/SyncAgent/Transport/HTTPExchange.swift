/// One HTTP request as the agent sends it to HQ.
///
/// The body goes out exactly as given: callers gzip it and set `Content-Encoding` themselves,
/// so the transport never has to know what a batch is.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Sent in this order. Names and values must not contain CR or LF.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// The answer to an `HTTPRequest`, whatever its status: a 503 is a response, not an error.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased; a header sent several times is joined with ", ".
    public var headers: [String: String]
    public var body: [UInt8]
    /// Wall-clock time (Unix milliseconds) when the response was complete, for measuring the
    /// offset against HQ's `Date` header.
    public var receivedAtMillis: Int64

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = [], receivedAtMillis: Int64 = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.receivedAtMillis = receivedAtMillis
    }

    /// The value of a header, whatever the case of `name`.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Sends requests to HQ. `CurlTransport` is the real one, `MockTransport` the test double.
///
/// Any HTTP status is returned as a response; only a failure to get one (no connection,
/// timeout, TLS refused, cancellation) throws, as `TransportError` or `CancellationError`.
public protocol DeltaTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
