import CCurl
import Dispatch
import Foundation
import Synchronization

/// The real `DeltaTransport`: HTTP/1.1 over libcurl, one connection kept open to HQ.
///
/// One easy handle per transport keeps the TCP and TLS session alive between exchanges
/// (a TLS handshake over a store's DSL line costs more than a small batch). The handle is
/// confined to a private serial queue: requests run one at a time, and the blocking
/// `curl_easy_perform` runs on that queue's thread, never on Swift's cooperative pool.
/// A cancelled task aborts its transfer within about a second (libcurl's progress callback).
public final class CurlTransport: DeltaTransport, @unchecked Sendable {
    // @unchecked: `handle` and `errorBuffer` are touched only on `queue`, and in deinit,
    // which runs once no queued work holds `self`.
    public let settings: TransportSettings
    private let queue = DispatchQueue(label: "dealersync.curl-transport")
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// POSTFIELDS must never be NULL (libcurl would read the body from stdin instead).
    private let emptyBody: UnsafeMutablePointer<CChar>

    /// libcurl's global state must be set up once, before any handle, and it is not
    /// thread-safe: a Swift `static let` initialiser runs exactly once under a lock.
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

    public init(settings: TransportSettings = TransportSettings()) throws {
        guard Self.globalInit == CURLE_OK else {
            throw TransportError(
                .other, "libcurl could not initialise (\(Self.describe(Self.globalInit)))",
                hint: "reinstall libcurl (libcurl4-openssl-dev) and its TLS library")
        }
        guard let handle = curl_easy_init() else {
            throw TransportError(.other, "libcurl could not create a handle", hint: "the machine may be out of memory")
        }
        self.settings = settings
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        emptyBody = .allocate(capacity: 1)
        emptyBody.initialize(to: 0)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
        emptyBody.deallocate()
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let cancel = CancelFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                queue.async {
                    continuation.resume(with: Result { try self.perform(request, cancel: cancel) })
                }
            }
        } onCancel: {
            cancel.set()
        }
    }

    /// Connections libcurl opened for the last exchange: 0 when it reused the kept one.
    /// Waits for any exchange in flight.
    public func connectionsOpenedByLastExchange() -> Int {
        queue.sync {
            var count = 0
            _ = dealersync_curl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &count)
            return count
        }
    }

    // MARK: - On the queue

    private func perform(_ request: HTTPRequest, cancel: CancelFlag) throws -> HTTPResponse {
        if cancel.isSet { throw CancellationError() }
        // Reset drops every option of the last exchange (a POST body, a custom method) but
        // keeps the open connection, the TLS session and the DNS cache.
        curl_easy_reset(handle)
        errorBuffer[0] = 0

        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for header in request.headers {
            guard Self.isHeaderSafe(header.name) && Self.isHeaderSafe(header.value) && !header.name.isEmpty else {
                throw TransportError(
                    .other, "request header \(Self.sanitizedName(header.name)) has an empty name or a line break",
                    hint: "this is a bug in the caller; report it")
            }
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        // An empty `Expect:` stops libcurl from waiting for `100 Continue` before large
        // bodies, a round trip HQ does not need and some proxies never answer.
        headerList = curl_slist_append(headerList, "Expect:")
        let names = Set(request.headers.map { $0.name.lowercased() })
        if !names.contains("content-type") {
            // Otherwise libcurl labels every POST as a form.
            headerList = curl_slist_append(headerList, "Content-Type:")
        }

        let transfer = Transfer(maxBodyBytes: settings.maxResponseBytes, cancel: cancel)
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        let host = Self.hostDescription(request.url)

        let result: CURLcode = try request.body.withUnsafeBufferPointer { body in
            try configure(request, body: body, headers: headerList, context: context)
            return withExtendedLifetime(transfer) { curl_easy_perform(handle) }
        }
        // The same clock the cycle stamps with, so the measured offset corrects exactly it.
        let receivedAtMillis = SteadyWallClock.nowMillis()

        guard result == CURLE_OK else {
            if result == CURLE_ABORTED_BY_CALLBACK && cancel.isSet { throw CancellationError() }
            if result == CURLE_WRITE_ERROR && transfer.tooLarge {
                throw TransportError(
                    .other, "the response from \(host) is larger than \(settings.maxResponseBytes) bytes",
                    hint: "ask HQ for smaller pages, or raise the response limit")
            }
            var connectMicros: curl_off_t = 0
            var totalMicros: curl_off_t = 0
            _ = dealersync_curl_getinfo_off_t(handle, CURLINFO_CONNECT_TIME_T, &connectMicros)
            _ = dealersync_curl_getinfo_off_t(handle, CURLINFO_TOTAL_TIME_T, &totalMicros)
            let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : Self.describe(result)
            var error = Self.error(
                for: result, detail: detail, url: request.url, host: host, settings: settings,
                connected: connectMicros > 0, elapsedMicros: Int64(totalMicros))
            error.elapsedMillis = Int64(totalMicros) / 1000
            throw error
        }
        var status = 0
        _ = dealersync_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(
            status: status, headers: transfer.headers, body: transfer.body, receivedAtMillis: receivedAtMillis)
    }

    private func configure(
        _ request: HTTPRequest, body: UnsafeBufferPointer<UInt8>,
        headers: UnsafeMutablePointer<curl_slist>?, context: UnsafeMutableRawPointer
    ) throws {
        func set(_ code: CURLcode, _ option: String) throws {
            guard code == CURLE_OK else {
                throw TransportError(
                    .other, "libcurl refused the \(option) option (\(Self.describe(code)))",
                    hint: "check that value in the agent config; libcurl may be too old for it")
            }
        }
        let h = handle
        try set(dealersync_curl_setopt_string(h, CURLOPT_URL, request.url), "URL")
        // Signals are process-wide; in a multi-threaded process libcurl must not use them.
        try set(dealersync_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1), "NOSIGNAL")
        try set(dealersync_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, errorBuffer), "ERRORBUFFER")
        try set(dealersync_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headers), "HTTPHEADER")

        let method = request.method.uppercased()
        guard !method.isEmpty, method.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw TransportError(.other, "the request method is not a token", hint: "this is a bug in the caller; report it")
        }
        if method == "GET" && body.isEmpty {
            try set(dealersync_curl_setopt_long(h, CURLOPT_HTTPGET, 1), "HTTPGET")
        } else if method == "HEAD" {
            try set(dealersync_curl_setopt_long(h, CURLOPT_NOBODY, 1), "NOBODY")
        } else {
            // The body is sent from the caller's buffer, not copied; it outlives the perform.
            let bytes = body.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) } ?? UnsafeMutableRawPointer(emptyBody)
            try set(dealersync_curl_setopt_long(h, CURLOPT_POST, 1), "POST")
            try set(dealersync_curl_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "POSTFIELDSIZE")
            try set(dealersync_curl_setopt_pointer(h, CURLOPT_POSTFIELDS, bytes), "POSTFIELDS")
            if method != "POST" {
                try set(dealersync_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, method), "CUSTOMREQUEST")
            }
        }

        try set(dealersync_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, settings.verifyTLS ? 1 : 0), "SSL_VERIFYPEER")
        try set(dealersync_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, settings.verifyTLS ? 2 : 0), "SSL_VERIFYHOST")
        if let caFile = settings.caFile {
            try set(dealersync_curl_setopt_string(h, CURLOPT_CAINFO, caFile), "CAINFO (CA file)")
        }
        if let certificate = settings.clientCertificate {
            try set(dealersync_curl_setopt_string(h, CURLOPT_SSLCERT, certificate), "SSLCERT (client certificate)")
        }
        if let key = settings.clientKey {
            try set(dealersync_curl_setopt_string(h, CURLOPT_SSLKEY, key), "SSLKEY (client key)")
        }
        // An empty proxy string also ignores http_proxy/https_proxy in the environment.
        try set(dealersync_curl_setopt_string(h, CURLOPT_PROXY, settings.proxy ?? ""), "PROXY")

        try set(dealersync_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, settings.connectTimeoutMillis), "CONNECTTIMEOUT_MS")
        try set(dealersync_curl_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, settings.lowSpeedLimitBytesPerSecond), "LOW_SPEED_LIMIT")
        try set(dealersync_curl_setopt_long(h, CURLOPT_LOW_SPEED_TIME, settings.lowSpeedTimeSeconds), "LOW_SPEED_TIME")
        try set(dealersync_curl_setopt_long(h, CURLOPT_TIMEOUT, settings.totalTimeoutSeconds), "TIMEOUT")
        // Keepalive probes stop a NAT router from silently dropping an idle long-poll.
        try set(dealersync_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1), "TCP_KEEPALIVE")

        try set(dealersync_curl_setopt_data_callback(h, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let length = size * count
            guard let data, let context else { return length }
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            transfer.addHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
            return length
        }, "HEADERFUNCTION")
        try set(dealersync_curl_setopt_pointer(h, CURLOPT_HEADERDATA, context), "HEADERDATA")
        try set(dealersync_curl_setopt_data_callback(h, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let length = size * count
            guard let data, let context else { return length }
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            // Returning less than `length` makes libcurl stop with CURLE_WRITE_ERROR.
            return transfer.addBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
        }, "WRITEFUNCTION")
        try set(dealersync_curl_setopt_pointer(h, CURLOPT_WRITEDATA, context), "WRITEDATA")
        try set(dealersync_curl_setopt_long(h, CURLOPT_NOPROGRESS, 0), "NOPROGRESS")
        try set(dealersync_curl_setopt_xferinfo_callback(h) { context, _, _, _, _ in
            guard let context else { return 0 }
            return Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue().cancel.isSet ? 1 : 0
        }, "XFERINFOFUNCTION")
        try set(dealersync_curl_setopt_pointer(h, CURLOPT_XFERINFODATA, context), "XFERINFODATA")
    }

    // MARK: - Errors

    static func error(
        for code: CURLcode, detail: String, url: String, host: String, settings: TransportSettings,
        connected: Bool, elapsedMicros: Int64
    ) -> TransportError {
        let reason = "\(detail) [curl \(code.rawValue)]"
        switch code {
        case CURLE_COULDNT_RESOLVE_PROXY, CURLE_PROXY:
            return proxyError(reason)
        case CURLE_COULDNT_CONNECT where settings.proxy != nil:
            // With a proxy, the connection libcurl opens is the one to the proxy.
            return proxyError(reason)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT:
            return TransportError(
                .couldNotConnect, "could not connect to \(host): \(reason)",
                hint: "check the store's network and the HQ URL in the agent config; the agent retries on its own")
        case CURLE_OPERATION_TIMEDOUT:
            // libcurl reports all three bounds with this one code; tell them apart by phase.
            if !connected {
                return TransportError(
                    .timedOut, "no connection to \(host) within \(settings.connectTimeoutMillis) ms: \(reason)",
                    hint: "check the store's network and firewall; the agent retries on its own")
            }
            // 100 ms of slack: libcurl's own timer may fire a hair before the total is reached.
            if elapsedMicros + 100_000 >= Int64(settings.totalTimeoutSeconds) * 1_000_000 {
                return TransportError(
                    .timedOut, "the exchange with \(host) took longer than \(settings.totalTimeoutSeconds) s: \(reason)",
                    hint: "the link is very slow or HQ is overloaded; raise the total timeout if this persists")
            }
            return TransportError(
                .stalled,
                "the link to \(host) stalled (under \(settings.lowSpeedLimitBytesPerSecond) B/s for \(settings.lowSpeedTimeSeconds) s): \(reason)",
                hint: "check the store's router, Wi-Fi or VPN; the agent abandons stalled links and retries")
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ENGINE_NOTFOUND,
            CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_SHUTDOWN_FAILED, CURLE_USE_SSL_FAILED, CURLE_SSL_CLIENTCERT:
            return tlsError(host, reason)
        case CURLE_RECV_ERROR where detail.contains("SSL"), CURLE_SEND_ERROR where detail.contains("SSL"):
            // TLS 1.3 servers refuse a missing client certificate after the handshake, so
            // the refusal arrives as a failed read carrying the server's alert.
            return tlsError(host, reason)
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING:
            // ... or, when the server closes first, as a bare closed connection.
            let certificateHint = settings.clientCertificate == nil && url.lowercased().hasPrefix("https:")
                ? "; if HQ requires a client certificate (mutual TLS), set one in the agent config" : ""
            return TransportError(
                .other, "\(host) closed the connection without an answer: \(reason)",
                hint: "usually a dropped connection, and the agent retries on its own\(certificateHint)")
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return TransportError(
                .other, "the HQ URL cannot be used: \(reason)",
                hint: "set the HQ URL in the agent config to https://host[:port]")
        default:
            return TransportError(
                .other, "the exchange with \(host) failed: \(reason)",
                hint: "usually a dropped connection; the agent retries on its own")
        }
    }

    private static func proxyError(_ reason: String) -> TransportError {
        TransportError(
            .proxyFailure, "the proxy failed: \(reason)",
            hint: "check the proxy URL in the agent config and that the proxy is up and allows HQ")
    }

    private static func tlsError(_ host: String, _ reason: String) -> TransportError {
        TransportError(
            .tlsFailure, "TLS with \(host) failed: \(reason)",
            hint: "check the CA file and client certificate in the agent config, and the PC's clock (certificates have dates)")
    }

    static func describe(_ code: CURLcode) -> String {
        curl_easy_strerror(code).map { String(cString: $0) } ?? "libcurl error \(code.rawValue)"
    }

    /// `host:port` only: a URL's path and query may carry ids, never worth putting in a log.
    static func hostDescription(_ url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host else { return "HQ" }
        return components.port.map { "\(host):\($0)" } ?? host
    }

    private static func isHeaderSafe(_ text: String) -> Bool {
        !text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 })
    }

    private static func sanitizedName(_ name: String) -> String {
        String(name.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F && $0 != ":" }.prefix(40).map(Character.init))
    }
}

/// Set from the task's cancellation handler (any thread), read by libcurl's callback.
private final class CancelFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

/// What the libcurl callbacks collect during one exchange; used on the transport's queue only.
private final class Transfer {
    private(set) var headers: [String: String] = [:]
    private(set) var body: [UInt8] = []
    private(set) var tooLarge = false
    let maxBodyBytes: Int
    let cancel: CancelFlag

    init(maxBodyBytes: Int, cancel: CancelFlag) {
        self.maxBodyBytes = maxBodyBytes
        self.cancel = cancel
    }

    func addHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self)
        // A new status line starts a new header block (after `100 Continue`, a proxy's
        // CONNECT answer or a redirect); only the last block belongs to the response.
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { return }
        if let existing = headers[name] {
            headers[name] = existing + ", " + value
        } else {
            headers[name] = value
        }
    }

    func addBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard body.count + bytes.count <= maxBodyBytes else {
            tooLarge = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }
}
