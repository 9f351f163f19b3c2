/// A store's health as its agent reports it on every pull (`X-Dealersync-Health`): the
/// agent's release, its backlog (changes not yet batched, rows in the outbox), rows from
/// HQ the DMS refused, free disk, and the code of its last failed cycle. HQ shows it per
/// dealer (`hq status`, `/v1/status`, `/metrics`, the console). Numbers and short codes
/// only: nothing a customer value or a free-text message could travel in.
///
///     X-Dealersync-Health: v=0.1.0 schema=3 pending=12 outbox=0 held=3 disk_mb=20480 error=hqUnreachable
public struct StoreHealthReport: Hashable, Sendable, Codable {
    public static let headerName = "X-Dealersync-Health"

    public var agentVersion: String
    public var pendingChanges: Int
    public var outboxRows: Int
    public var heldRows: Int
    /// Free space where the DMS database lives, in MiB; nil when unknown.
    public var freeDiskMB: Int?
    /// The code of the last failed cycle (`AgentError.Code`, `storage`, `database`); nil
    /// after a successful one.
    public var lastError: String?
    /// The sync schema version the store runs (docs/ROLLOUT.md); nil when not set up.
    public var schemaVersion: UInt64?

    public init(
        agentVersion: String, pendingChanges: Int, outboxRows: Int, heldRows: Int, freeDiskMB: Int?, lastError: String?,
        schemaVersion: UInt64? = nil
    ) {
        self.schemaVersion = schemaVersion
        self.agentVersion = agentVersion
        self.pendingChanges = pendingChanges
        self.outboxRows = outboxRows
        self.heldRows = heldRows
        self.freeDiskMB = freeDiskMB
        self.lastError = lastError
    }

    public var headerValue: String {
        "v=\(agentVersion)" + (schemaVersion.map { " schema=\($0)" } ?? "") + " pending=\(pendingChanges) outbox=\(outboxRows) held=\(heldRows)"
            + (freeDiskMB.map { " disk_mb=\($0)" } ?? "") + (lastError.map { " error=\($0)" } ?? "")
    }

    /// Nil for anything but well-formed fields: at most 256 bytes, known keys once each,
    /// counts from 0 to 10^12, a version and an error code of at most 40 letters, digits,
    /// `.`, `_`, `+` or `-`. A hostile store can only report wrong numbers about itself.
    public init?(headerValue: String) {
        guard let fields = HeaderFields.parse(headerValue, maxBytes: 256, allowed: ["v", "schema", "pending", "outbox", "held", "disk_mb", "error"])
        else { return nil }
        func count(_ key: String) -> Int? { fields[key].flatMap { Int($0) }.flatMap { (0...1_000_000_000_000).contains($0) ? $0 : nil } }
        func code(_ text: String) -> Bool {
            (1...40).contains(text.utf8.count) && text.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || [0x2E, 0x5F, 0x2B, 0x2D].contains(byte)
            }
        }
        guard let version = fields["v"], code(version), let pending = count("pending"), let outbox = count("outbox"), let held = count("held")
        else { return nil }
        if fields["disk_mb"] != nil && count("disk_mb") == nil { return nil }
        if let error = fields["error"], !code(error) { return nil }
        if fields["schema"] != nil && count("schema") == nil { return nil }
        self.init(
            agentVersion: version, pendingChanges: pending, outboxRows: outbox, heldRows: held, freeDiskMB: count("disk_mb"), lastError: fields["error"],
            schemaVersion: count("schema").map(UInt64.init))
    }
}
