/// How `CurlTransport` reaches HQ: TLS trust, client certificate, proxy and time bounds.
///
/// The defaults suit a store PC on a poor link: TLS verified against the system trust store,
/// a connect bound short enough to notice a dead network quickly, and a low-speed limit so a
/// link that stalls mid-transfer is abandoned instead of hanging until the total timeout.
public struct TransportSettings: Sendable, Hashable {
    /// Verify HQ's certificate chain and host name. Turn off only for a lab HQ.
    public var verifyTLS: Bool = true
    /// PEM file of the CAs to trust instead of the system store (a private HQ CA).
    public var caFile: String?
    /// PEM client certificate for mutual TLS; needs `clientKey`.
    public var clientCertificate: String?
    /// PEM private key of `clientCertificate`.
    public var clientKey: String?
    /// Proxy URL such as `http://proxy.store.lan:3128`; nil uses no proxy and ignores the
    /// `http_proxy` environment variables, so the route to HQ is what the config says.
    public var proxy: String?
    /// Longest wait for the TCP (and proxy) connection to open.
    public var connectTimeoutMillis: Int = 10_000
    /// A transfer slower than this many bytes per second ...
    public var lowSpeedLimitBytesPerSecond: Int = 100
    /// ... for this many seconds in a row is abandoned as stalled.
    public var lowSpeedTimeSeconds: Int = 30
    /// Longest a whole exchange may take, long-poll wait included.
    public var totalTimeoutSeconds: Int = 300
    /// A response body larger than this is refused (HQ pages are far smaller).
    public var maxResponseBytes: Int = 256 << 20

    public init(
        verifyTLS: Bool = true,
        caFile: String? = nil,
        clientCertificate: String? = nil,
        clientKey: String? = nil,
        proxy: String? = nil,
        connectTimeoutMillis: Int = 10_000,
        lowSpeedLimitBytesPerSecond: Int = 100,
        lowSpeedTimeSeconds: Int = 30,
        totalTimeoutSeconds: Int = 300,
        maxResponseBytes: Int = 256 << 20
    ) {
        self.verifyTLS = verifyTLS
        self.caFile = caFile
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.proxy = proxy
        self.connectTimeoutMillis = connectTimeoutMillis
        self.lowSpeedLimitBytesPerSecond = lowSpeedLimitBytesPerSecond
        self.lowSpeedTimeSeconds = lowSpeedTimeSeconds
        self.totalTimeoutSeconds = totalTimeoutSeconds
        self.maxResponseBytes = maxResponseBytes
    }
}
