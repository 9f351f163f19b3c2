import Configuration
import Foundation
import SyncCore

/// Everything `dealersync hq serve` is configured with, read in one place.
///
/// Keys (YAML file, or environment variables prefixed `DEALERSYNC_`, e.g. `DEALERSYNC_HTTP_PORT`):
/// - `http.host` (string, default `127.0.0.1`), `http.port` (int, default 8443; 0 picks a free port)
/// - `store.path` (string, required): the SQLite file of the HQ store
/// - `store.tables_path` (string, default: the store's path with `.tables.sqlite` for `.sqlite`):
///   the SQLite file of HQ's SQL tables (docs/HQ-TABLES.md), attached to the store; `off` keeps none
/// - `schema_file` (string, required): the sync schema YAML (see docs/SYNC-SCHEMA.md)
/// - `limits.max_body_bytes` (int, default 8 MiB): largest compressed push body
/// - `limits.max_decompressed_bytes` (int, default 64 MiB): largest decompressed push body
/// - `limits.max_rows` (int, default 50,000): most rows in one push
/// - `limits.max_concurrent_ingests` (int, default 4): pushes applied at once; more wait their turn
/// - `limits.max_ingest_queue_ms` (int, default 2,000): longest a push waits for its turn before 429
/// - `limits.max_page_rows` (int, default 5,000): most rows in one pull or feed page
/// - `limits.max_wait_seconds` (int, default 30): longest long-poll `wait=`
/// - `limits.max_clock_ahead_ms` (int, default 300,000): how far ahead of HQ's clock a pushed
///   row's clock readings may be before the row is dead-lettered
/// - `limits.max_writes_per_batch` (int, default 1,000,000): column writes and version entries
///   one push may decode to
/// - `limits.max_row_bytes` (int, default 4 MiB, at most 64 MiB): largest stored row version;
///   a row that would grow past it is dead-lettered
/// - `limits.max_page_bytes` (int, default 16 MiB, at most 128 MiB): stored bytes in one pull
///   or feed page (plus at most one row)
/// - `limits.max_concurrent_uploads` (int, default 32): push bodies being received at once
/// - `limits.max_pushes_per_dealer` (int, default 2): one dealer's pushes in flight at once
/// - `limits.min_body_bytes_per_second` (int, default 1,024): a request body slower than this on
///   average (after its first 10 s) is cut with 408; a 64 kbit/s link sends 8,000
/// - `limits.idle_timeout_seconds` (int, default 30): a connection silent this long, between
///   requests or in the middle of a body, is closed (a long poll is not silence)
/// - `limits.max_connections` (int, default 4,096): open connections; more are answered 503 and closed
/// - `limits.max_table_columns` (int, default 500): most columns a learned SQL table gets from
///   the stores' shape reports (declared columns are not bound by it)
/// - `retention.feed_days` (int, default 30; 0 keeps the whole feed): days of full change history
///   the feed keeps; older, only each row's current version (docs/HQ.md, "Retention")
/// - `retention.interval_seconds` (int, default 3,600): time between retention passes
/// - `retention.access_log_days` (int, default 365; 0 keeps every record): how long records
///   of who read personal data are kept (docs/PRIVACY.md)
/// - `retention.personal_data_days` (int, default 365; 0 keeps them): how long dead letters and
///   conflict records, which hold customer values, are kept
/// - `console.enabled` (bool, default true): the web console at `/console` (docs/CONSOLE.md)
/// - `status.silent_after_seconds` (int, default 900): a dealer not seen this long is flagged
///   silent in `hq status`, `/v1/status`, `/metrics` and the console
public struct HQConfig: Sendable {
    public var host: String
    public var port: Int
    public var storePath: String
    /// HQ's SQL tables (docs/HQ-TABLES.md); nil: not kept.
    public var tablesPath: String?
    public var schema: SyncSchema
    public var limits: HQLimits
    public var retention: HQRetention
    /// The web console at `/console` (docs/CONSOLE.md).
    public var console = true
    /// A dealer not seen this long is flagged silent.
    public var silentAfterSeconds = HQConfig.defaultSilentAfterSeconds
    public static let defaultSilentAfterSeconds = 900

    public init(
        host: String = "127.0.0.1", port: Int = 8443, storePath: String, tablesPath: String? = nil, schema: SyncSchema, limits: HQLimits = HQLimits(),
        retention: HQRetention = HQRetention()
    ) {
        self.host = host
        self.port = port
        self.storePath = storePath
        self.tablesPath = tablesPath
        self.schema = schema
        self.limits = limits
        self.retention = retention
    }

    /// Reads the keys above; the schema file is read and checked here, so a bad schema stops
    /// the server before it listens. Relative paths are taken from `directory` (the
    /// configuration file's folder) when given.
    public init(reader: ConfigReader, relativeTo directory: String? = nil) throws {
        func resolve(_ path: String) -> String {
            guard let directory, !path.hasPrefix("/") else { return path }
            return directory + "/" + path
        }
        let defaults = HQLimits()
        func text(_ key: String) -> String? {
            // YAML `key: ~` arrives as the string "~".
            guard let value = reader.string(forKey: ConfigKey(key)), !["", "~", "null"].contains(value) else { return nil }
            return value
        }
        func required(_ key: String) throws -> String {
            guard let value = text(key) else {
                throw HQConfigError(message: "the setting \(key) is missing", hint: "add \(key) to hq.yaml or set DEALERSYNC_\(key.uppercased().replacingOccurrences(of: ".", with: "_"))")
            }
            return value
        }
        let limitsReader = reader.scoped(to: "limits")
        func limit(_ key: String, _ fallback: Int) throws -> Int {
            let value = limitsReader.int(forKey: ConfigKey(key), default: fallback)
            guard value > 0 else {
                throw HQConfigError(message: "the setting limits.\(key) is \(value); it must be positive", hint: "set limits.\(key) to a positive number or remove it for the default \(fallback)")
            }
            return value
        }
        host = text("http.host") ?? "127.0.0.1"
        port = reader.int(forKey: "http.port", default: 8443)
        storePath = resolve(try required("store.path"))
        // HQ's SQL tables are kept by default, beside the store; `off` turns them off.
        switch text("store.tables_path") {
        case "off"?, "false"?: tablesPath = nil
        case let path?: tablesPath = resolve(path)
        case nil: tablesPath = Self.defaultTablesPath(storePath: storePath)
        }
        let schemaPath = resolve(try required("schema_file"))
        let yaml: String
        do {
            yaml = try String(contentsOfFile: schemaPath, encoding: .utf8)
        } catch {
            throw HQConfigError(message: "cannot read the sync schema file \(schemaPath) (schema_file)", hint: "check the path and that the file is readable")
        }
        schema = try SyncSchema(yaml: yaml, source: schemaPath)
        limits = HQLimits(
            maxBodyBytes: try limit("max_body_bytes", defaults.maxBodyBytes),
            maxDecompressedBytes: try limit("max_decompressed_bytes", defaults.maxDecompressedBytes),
            maxRows: try limit("max_rows", defaults.maxRows),
            maxConcurrentIngests: try limit("max_concurrent_ingests", defaults.maxConcurrentIngests),
            maxIngestQueueMillis: try limit("max_ingest_queue_ms", defaults.maxIngestQueueMillis),
            maxPageRows: try limit("max_page_rows", defaults.maxPageRows),
            maxWaitSeconds: try limit("max_wait_seconds", defaults.maxWaitSeconds),
            maxClockAheadMillis: try limit("max_clock_ahead_ms", defaults.maxClockAheadMillis),
            maxWritesPerBatch: try limit("max_writes_per_batch", defaults.maxWritesPerBatch),
            maxRowBytes: try limit("max_row_bytes", defaults.maxRowBytes),
            maxPageBytes: try limit("max_page_bytes", defaults.maxPageBytes),
            maxConcurrentUploads: try limit("max_concurrent_uploads", defaults.maxConcurrentUploads),
            maxPushesPerDealer: try limit("max_pushes_per_dealer", defaults.maxPushesPerDealer),
            minBodyBytesPerSecond: try limit("min_body_bytes_per_second", defaults.minBodyBytesPerSecond),
            idleTimeoutSeconds: try limit("idle_timeout_seconds", defaults.idleTimeoutSeconds),
            maxConnections: try limit("max_connections", defaults.maxConnections),
            maxTableColumns: try limit("max_table_columns", defaults.maxTableColumns))
        let retentionDefaults = HQRetention()
        let feedDays = reader.int(forKey: "retention.feed_days", default: retentionDefaults.feedDays)
        guard (0...HQRetention.maxFeedDays).contains(feedDays) else {
            throw HQConfigError(
                message: "the setting retention.feed_days is \(feedDays); it must be from 0 (keep the whole feed) to \(HQRetention.maxFeedDays)",
                hint: "set retention.feed_days to how many days HQ systems may fall behind the feed, or remove it for the default \(retentionDefaults.feedDays)")
        }
        let intervalSeconds = reader.int(forKey: "retention.interval_seconds", default: retentionDefaults.intervalSeconds)
        guard intervalSeconds > 0 else {
            throw HQConfigError(
                message: "the setting retention.interval_seconds is \(intervalSeconds); it must be positive",
                hint: "set retention.interval_seconds to a positive number or remove it for the default \(retentionDefaults.intervalSeconds)")
        }
        let accessLogDays = reader.int(forKey: "retention.access_log_days", default: retentionDefaults.accessLogDays)
        guard (0...HQRetention.maxFeedDays).contains(accessLogDays) else {
            throw HQConfigError(
                message: "the setting retention.access_log_days is \(accessLogDays); it must be from 0 (keep every record) to \(HQRetention.maxFeedDays)",
                hint: "set it to how long your privacy policy keeps records of who read personal data, or remove it for the default \(retentionDefaults.accessLogDays)")
        }
        let personalDataDays = reader.int(forKey: "retention.personal_data_days", default: retentionDefaults.personalDataDays)
        guard (0...HQRetention.maxFeedDays).contains(personalDataDays) else {
            throw HQConfigError(
                message: "the setting retention.personal_data_days is \(personalDataDays); it must be from 0 (keep dead letters and conflicts for ever) to \(HQRetention.maxFeedDays)",
                hint: "set it to how long your privacy policy keeps refused rows and conflict records, or remove it for the default \(retentionDefaults.personalDataDays)")
        }
        retention = HQRetention(feedDays: feedDays, intervalSeconds: intervalSeconds, accessLogDays: accessLogDays, personalDataDays: personalDataDays)
        console = reader.bool(forKey: "console.enabled", default: true)
        silentAfterSeconds = reader.int(forKey: "status.silent_after_seconds", default: Self.defaultSilentAfterSeconds)
        guard silentAfterSeconds > 0 else {
            throw HQConfigError(
                message: "the setting status.silent_after_seconds is \(silentAfterSeconds); it must be positive",
                hint: "set it to how long a store may stay quiet before HQ flags it (default \(Self.defaultSilentAfterSeconds)), or remove it")
        }
        // An agent decompresses at most 256 MiB of one pulled page; a page is at most
        // max_page_bytes plus one row.
        for (key, value, cap) in [("max_row_bytes", limits.maxRowBytes, 64 << 20), ("max_page_bytes", limits.maxPageBytes, 128 << 20)] where value > cap {
            throw HQConfigError(
                message: "the setting limits.\(key) is \(value); it can be at most \(cap)",
                hint: "agents refuse pulled pages over 256 MiB; lower limits.\(key)")
        }
    }
}

extension HQConfig {
    /// `/var/lib/dealersync/hq.sqlite` → `/var/lib/dealersync/hq.tables.sqlite`.
    public static func defaultTablesPath(storePath: String) -> String {
        (storePath.hasSuffix(".sqlite") ? String(storePath.dropLast(".sqlite".count)) : storePath) + ".tables.sqlite"
    }
}

/// Bounds that keep one client from exhausting HQ's memory, connections or write lock. The
/// memory they add up to is in docs/HQ.md ("Memory").
public struct HQLimits: Sendable, Hashable {
    public var maxBodyBytes: Int
    public var maxDecompressedBytes: Int
    public var maxRows: Int
    public var maxConcurrentIngests: Int
    public var maxIngestQueueMillis: Int
    public var maxPageRows: Int
    public var maxWaitSeconds: Int
    public var maxClockAheadMillis: Int
    public var maxWritesPerBatch: Int
    public var maxRowBytes: Int
    public var maxPageBytes: Int
    public var maxConcurrentUploads: Int
    public var maxPushesPerDealer: Int
    public var minBodyBytesPerSecond: Int
    public var idleTimeoutSeconds: Int
    public var maxConnections: Int
    /// Most columns a learned SQL table gets from the stores' shape reports.
    public var maxTableColumns: Int

    public init(
        maxBodyBytes: Int = 8 << 20, maxDecompressedBytes: Int = 64 << 20, maxRows: Int = 50_000,
        maxConcurrentIngests: Int = 4, maxIngestQueueMillis: Int = 2_000, maxPageRows: Int = 5_000, maxWaitSeconds: Int = 30,
        maxClockAheadMillis: Int = 300_000, maxWritesPerBatch: Int = 1_000_000, maxRowBytes: Int = 4 << 20,
        maxPageBytes: Int = 16 << 20, maxConcurrentUploads: Int = 32, maxPushesPerDealer: Int = 2, minBodyBytesPerSecond: Int = 1_024,
        idleTimeoutSeconds: Int = 30, maxConnections: Int = 4_096, maxTableColumns: Int = 500
    ) {
        self.maxTableColumns = maxTableColumns
        self.maxClockAheadMillis = maxClockAheadMillis
        self.maxBodyBytes = maxBodyBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxRows = maxRows
        self.maxConcurrentIngests = maxConcurrentIngests
        self.maxIngestQueueMillis = maxIngestQueueMillis
        self.maxPageRows = maxPageRows
        self.maxWaitSeconds = maxWaitSeconds
        self.maxWritesPerBatch = maxWritesPerBatch
        self.maxRowBytes = maxRowBytes
        self.maxPageBytes = maxPageBytes
        self.maxConcurrentUploads = maxConcurrentUploads
        self.maxPushesPerDealer = maxPushesPerDealer
        self.minBodyBytesPerSecond = minBodyBytesPerSecond
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.maxConnections = maxConnections
    }

    /// One pull or feed page.
    var page: PageLimit { PageLimit(rows: maxPageRows, bytes: maxPageBytes) }
}

/// How long the feed keeps every change (docs/HQ.md, "Retention").
public struct HQRetention: Sendable, Hashable {
    /// Days of full change history; older, the feed keeps only each row's current version
    /// and deleted rows go once every store has them. 0: keep everything.
    public var feedDays: Int
    /// Seconds between retention passes.
    public var intervalSeconds: Int
    /// Seconds before the first pass, so a restart is not slowed (not a config key: tests
    /// that compact by hand set it past their own length).
    public var firstPassDelaySeconds: Int

    /// 100 years; longer is `feed_days: 0`.
    static let maxFeedDays = 36_500

    /// Days access records are kept (docs/PRIVACY.md); 0: for ever.
    public var accessLogDays: Int
    /// Days dead letters and conflict records, which hold customer values, are kept; 0: for ever.
    public var personalDataDays: Int

    public init(
        feedDays: Int = 30, intervalSeconds: Int = 3_600, firstPassDelaySeconds: Int = 60, accessLogDays: Int = 365, personalDataDays: Int = 365
    ) {
        self.accessLogDays = accessLogDays
        self.personalDataDays = personalDataDays
        self.feedDays = feedDays
        self.intervalSeconds = intervalSeconds
        self.firstPassDelaySeconds = firstPassDelaySeconds
    }
}

/// A configuration problem, naming the key.
public struct HQConfigError: Error, CustomStringConvertible {
    public var message: String
    public var hint: String
    public var description: String { "\(message). Try: \(hint)" }
}
