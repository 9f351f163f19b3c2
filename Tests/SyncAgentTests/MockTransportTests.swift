import SyncAgent
import Testing

@Suite("Mock transport")
struct MockTransportTests {
    @Test("the handler sees the request and its answer or error is returned as is")
    func handlerIsCalled() async throws {
        var mock = MockTransport { request in
            HTTPResponse(status: 202, headers: ["x-path": request.url], body: request.body, receivedAtMillis: 7)
        }
        let response = try await mock.send(HTTPRequest(method: "POST", url: "/v1/x", body: [9]))
        #expect(response.status == 202)
        #expect(response.header("X-Path") == "/v1/x")
        #expect(response.body == [9])

        mock.handler = { _ in throw TransportError(.stalled, "the link stalled", hint: "wait") }
        let error = await #expect(throws: TransportError.self) {
            try await mock.send(HTTPRequest(method: "GET", url: "/v1/x"))
        }
        #expect(error?.code == .stalled)
        #expect(error?.description == "the link stalled (stalled). Try: wait")
    }
}
