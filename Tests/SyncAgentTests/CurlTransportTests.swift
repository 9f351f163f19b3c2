import Foundation
import Glibc
import SyncAgent
import SyncCore
import SyncTestSupport
import Testing

/// CurlTransport against real servers on 127.0.0.1, started and killed by each test.
@Suite("libcurl transport")
struct CurlTransportTests {
    @Test("a gzip POST arrives intact, the answer comes back, no Expect, one connection")
    func plainHTTP() async throws {
        let directory = TemporaryDirectory("curl-http")
        let server = try await LoopbackServer(["http"], in: directory)
        defer { server.stop() }
        let transport = try CurlTransport()

        // Over 1 MiB, where libcurl would otherwise ask for `100 Continue` first.
        var generator = SeededGenerator(seed: 2026)
        let rows = (0..<120_000).map { _ in "row,\(generator.next() % 1_000_000)\n" }.joined()
        let body = Gzip.compress(Array(rows.utf8), level: 0)
        #expect(body.count > 1 << 20)
        let request = HTTPRequest(
            method: "POST", url: server.baseURL + "/v1/dealers/DLR-0421/batches",
            headers: [
                ("Content-Encoding", "gzip"), ("Content-Type", "application/vnd.dealersync.batch"),
                ("Authorization", "Bearer test-token"),
            ],
            body: body)
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let first = try await transport.send(request)
        #expect(first.status == 201)
        #expect(first.body == body)
        #expect(first.headers["x-body-sha256"] == BodyChecksum.sha256Hex(body))
        #expect(first.header("X-Expect") == "absent")
        #expect(first.headers["x-content-encoding"] == "gzip")
        #expect(first.headers["x-content-type"] == "application/vnd.dealersync.batch")
        #expect(first.headers["x-twice"] == "first, second")
        #expect(first.headers["content-length"] == "\(body.count)")
        #expect(first.receivedAtMillis >= before)
        #expect(try Gzip.decompress(first.body, maxOutputBytes: 8 << 20) == Array(rows.utf8))
        #expect(transport.connectionsOpenedByLastExchange() == 1)

        let second = try await transport.send(HTTPRequest(method: "GET", url: server.baseURL + "/v1/status"))
        #expect(second.status == 201)
        #expect(second.headers["x-method"] == "GET")
        #expect(second.body == Array("hello from the loopback server".utf8))
        #expect(transport.connectionsOpenedByLastExchange() == 0)
        #expect(second.headers["x-client-port"] == first.headers["x-client-port"])

        // An empty POST sends an empty body (not stdin), and no form content type is invented.
        let empty = try await transport.send(HTTPRequest(method: "POST", url: server.baseURL + "/empty"))
        #expect(empty.status == 201)
        #expect(empty.body.isEmpty)
        #expect(empty.headers["x-content-type"] == "absent")
        let put = try await transport.send(HTTPRequest(method: "PUT", url: server.baseURL + "/put", body: [1, 2, 3]))
        #expect(put.headers["x-method"] == "PUT")
        #expect(put.body == [1, 2, 3])
        #expect(second.headers["x-client-port"] == put.headers["x-client-port"])
    }

    @Test("a refused connection is couldNotConnect, quickly")
    func connectionRefused() async throws {
        // A bound socket that does not listen: connections to its port are refused, and no
        // other process can take the port while the test runs.
        let (fd, port) = try boundButNotListening()
        defer { close(fd) }
        let transport = try CurlTransport()
        let error = await #expect(throws: TransportError.self) {
            try await transport.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/v1/status"))
        }
        #expect(error?.code == .couldNotConnect)
        #expect(error?.message.contains("127.0.0.1:\(port)") == true)
        // Durations are libcurl's own: the wall clock of a test also counts time spent
        // waiting for a thread while other suites keep both cores busy.
        #expect((error?.elapsedMillis ?? .max) < 2_000)
    }

    @Test("a server that never answers is abandoned by the low-speed limit")
    func stalledLink() async throws {
        let directory = TemporaryDirectory("curl-stall")
        let server = try await LoopbackServer(["silent"], in: directory)
        defer { server.stop() }
        let transport = try CurlTransport(
            settings: TransportSettings(lowSpeedLimitBytesPerSecond: 1, lowSpeedTimeSeconds: 1))
        let error = await #expect(throws: TransportError.self) {
            try await transport.send(HTTPRequest(method: "POST", url: server.baseURL + "/v1/x", body: [1, 2, 3]))
        }
        #expect(error?.code == .stalled)
        #expect((error?.elapsedMillis ?? 0) >= 900)
        #expect((error?.elapsedMillis ?? .max) < 5_000)
    }

    @Test("a total timeout shorter than the low-speed time is timedOut")
    func totalTimeout() async throws {
        let directory = TemporaryDirectory("curl-timeout")
        let server = try await LoopbackServer(["silent"], in: directory)
        defer { server.stop() }
        let transport = try CurlTransport(settings: TransportSettings(totalTimeoutSeconds: 1))
        let error = await #expect(throws: TransportError.self) {
            try await transport.send(HTTPRequest(method: "GET", url: server.baseURL + "/v1/x"))
        }
        #expect(error?.code == .timedOut)
        #expect((error?.elapsedMillis ?? .max) < 5_000)
    }

    @Test("cancelling the task aborts a transfer that is waiting for an answer")
    func cancellation() async throws {
        let directory = TemporaryDirectory("curl-cancel")
        let server = try await LoopbackServer(["silent"], in: directory)
        defer { server.stop() }
        let transport = try CurlTransport()
        let url = server.baseURL + "/v1/x"
        let task = Task { try await transport.send(HTTPRequest(method: "GET", url: url)) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        // Without the abort this would wait 30 s for the low-speed limit (stalled), not throw
        // CancellationError.
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test("TLS: a server signed by an unknown CA is refused, and accepted with the CA file")
    func tlsTrust() async throws {
        let directory = TemporaryDirectory("curl-tls")
        let certificates = try TestCertificates(in: directory)
        let server = try await LoopbackServer(
            ["https", certificates.serverCertificate, certificates.serverKey], in: directory)
        defer { server.stop() }

        let untrusting = try CurlTransport()
        let error = await #expect(throws: TransportError.self) {
            try await untrusting.send(HTTPRequest(method: "GET", url: server.tlsURL + "/v1/status"))
        }
        #expect(error?.code == .tlsFailure)

        let trusting = try CurlTransport(settings: TransportSettings(caFile: certificates.caFile))
        let response = try await trusting.send(
            HTTPRequest(method: "POST", url: server.tlsURL + "/v1/x", body: Gzip.compress(Array("tls".utf8))))
        #expect(response.status == 201)
        #expect(try Gzip.decompress(response.body, maxOutputBytes: 100) == Array("tls".utf8))
    }

    @Test("mutual TLS: refused without a client certificate, accepted with one", arguments: ["tls1.2", "tls1.3"])
    func mutualTLS(version: String) async throws {
        let directory = TemporaryDirectory("curl-mtls")
        let certificates = try TestCertificates(in: directory)
        let server = try await LoopbackServer(
            ["https", certificates.serverCertificate, certificates.serverKey, certificates.caFile, version],
            in: directory)
        defer { server.stop() }

        let anonymous = try CurlTransport(settings: TransportSettings(caFile: certificates.caFile))
        let error = await #expect(throws: TransportError.self) {
            try await anonymous.send(HTTPRequest(method: "GET", url: server.tlsURL + "/v1/status"))
        }
        if version == "tls1.2" {
            // The certificate is demanded inside the handshake, which fails.
            #expect(error?.code == .tlsFailure)
        } else {
            // TLS 1.3 refuses after the client considers the handshake done: depending on
            // timing libcurl sees the server's alert (tlsFailure) or only a closed connection.
            #expect(error?.code == .tlsFailure || error?.code == .other)
            #expect(error?.code == .tlsFailure || error?.hint.contains("client certificate") == true)
        }

        let identified = try CurlTransport(
            settings: TransportSettings(
                caFile: certificates.caFile, clientCertificate: certificates.clientCertificate,
                clientKey: certificates.clientKey))
        let response = try await identified.send(HTTPRequest(method: "GET", url: server.tlsURL + "/v1/status"))
        #expect(response.status == 201)
    }

    @Test("the configured proxy carries the request")
    func throughProxy() async throws {
        let directory = TemporaryDirectory("curl-proxy")
        let server = try await LoopbackServer(["http"], in: directory)
        defer { server.stop() }
        let proxy = try await LoopbackServer(["proxy"], in: directory)
        defer { proxy.stop() }
        let transport = try CurlTransport(settings: TransportSettings(proxy: proxy.baseURL))
        let response = try await transport.send(
            HTTPRequest(method: "POST", url: server.baseURL + "/v1/x", headers: [("Content-Encoding", "gzip")], body: [4, 5]))
        #expect(response.status == 201)
        #expect(response.headers["x-via-proxy"] == "yes")
        #expect(response.headers["x-expect"] == "absent")
        #expect(response.body == [4, 5])
    }

    @Test("an unreachable proxy is proxyFailure; a header with a line break is refused before sending")
    func proxyAndHeaders() async throws {
        let (fd, port) = try boundButNotListening()
        defer { close(fd) }
        let proxied = try CurlTransport(settings: TransportSettings(proxy: "http://127.0.0.1:\(port)"))
        let proxyError = await #expect(throws: TransportError.self) {
            try await proxied.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:9/v1/status"))
        }
        #expect(proxyError?.code == .proxyFailure)

        let transport = try CurlTransport()
        let headerError = await #expect(throws: TransportError.self) {
            try await transport.send(
                HTTPRequest(method: "GET", url: "http://127.0.0.1:9/", headers: [("X-Evil", "a\r\nAuthorization: x")]))
        }
        #expect(headerError?.code == .other)
        #expect(headerError?.message.contains("Authorization") == false)
    }
}

/// A TCP socket bound to a free loopback port but not listening.
private func boundButNotListening() throws -> (Int32, Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard fd >= 0, bound else { throw POSIXError(.EADDRNOTAVAIL) }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}
