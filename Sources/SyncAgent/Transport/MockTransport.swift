/// A `DeltaTransport` whose answer is a closure, for tests of the sync loop
/// (Litestream's `mock/replica_client.go` pattern: a function field per method).
public struct MockTransport: DeltaTransport {
    public var handler: @Sendable (HTTPRequest) async throws -> HTTPResponse

    public init(handler: @escaping @Sendable (HTTPRequest) async throws -> HTTPResponse) {
        self.handler = handler
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await handler(request)
    }
}
