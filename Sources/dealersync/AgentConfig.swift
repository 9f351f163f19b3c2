#if canImport(Glibc)
import Glibc
#endif
import Configuration
import Foundation
import SyncCapture
import SyncAgent
import SyncCore

/// The store agent's settings, read in one place from (highest priority first) environment
/// variables `DEALERSYNC_<KEY>` (`hq.url` → `DEALERSYNC_HQ_URL`), systemd credentials in
/// `$CREDENTIALS_DIRECTORY` (file `hq-token` → `hq.token`), the YAML file given with
/// `--config`, and the defaults below. See deploy/agent.example.yaml for a commented file.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `node_id` | required | this store's node id, from `dealersync hq add-dealer` |
/// | `database` | required | the DMS SQLite file |
/// | `schema_file` | none | the sync schema YAML, for setting up offline |
/// | `capture.max_lock_millis` | 200 | longest hold of the DMS write lock per transaction |
/// | `capture.busy_timeout_millis` | 5000 | wait for the DMS's lock before retrying later |
/// | `capture.batch_rows` | 5000 | rows per pushed batch |
/// | `hq.url` | required to sync | HQ's base URL, e.g. https://hq.example.com |
/// | `hq.allow_insecure_http` | false | allow a plain `http://` hq.url to a host other than this machine (lab networks only) |
/// | `hq.token` / `hq.token_file` | required to sync | the dealer token (credential `hq-token` under systemd); a warning when the file is open to group or others |
/// | `hq.ca_file` | system CAs | CA bundle that signed HQ's certificate |
/// | `hq.client_certificate`, `hq.client_key` | none | mTLS client certificate and key (PEM) |
/// | `hq.proxy` | none | HTTP(S) proxy URL |
/// | `hq.connect_timeout_millis` | 10000 | give up connecting after this long |
/// | `sync.poll_interval_millis` | 5000 | longest pause between cycles when nothing changes |
/// | `sync.pull_page_rows` | 1000 | rows per pull |
/// | `sync.retry_base_millis` | 500 | first retry waits up to this after a failed exchange |
/// | `sync.retry_cap_millis` | 30000 | retries wait up to base·2ⁿ, never more than this |
struct AgentConfig {
    var capture: CaptureSettings
    var schemaFile: String?
    var configPath: String
    /// Nil when the file has no `hq.url` (enough for `init` and `status`).
    var hq: HQSettings?

    struct HQSettings {
        var url: String
        /// `hq.allow_insecure_http`: plain HTTP to a non-loopback HQ is refused unless set.
        var allowInsecureHTTP: Bool
        var token: String?
        var tokenSource: String
        var transport: TransportSettings
        var pollIntervalMillis: Int
        var pullPageRows: Int
        var retry: RetryPolicy
    }

    static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> AgentConfig {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandError(
                message: "config file \(path) does not exist",
                hint: "pass --config with the agent's YAML file (see deploy/agent.example.yaml)")
        }
        let reader: ConfigReader
        do {
            let yaml = try await FileProvider<YAMLSnapshot>(filePath: .init(path), allowMissing: false)
            let credentials = try await DirectoryFilesProvider(
                directoryPath: .init(environment["CREDENTIALS_DIRECTORY"] ?? "/nonexistent/dealersync-credentials"),
                allowMissing: true)
            let env = EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "dealersync")
            reader = ConfigReader(providers: [env, credentials, yaml])
        } catch {
            throw CommandError(
                message: "config file \(path) cannot be read: \(error)",
                hint: "check that it is a YAML mapping (key: value lines); see deploy/agent.example.yaml")
        }
        func required(_ key: ConfigKey, _ name: String) throws -> String {
            guard let value = present(reader.string(forKey: key)) else {
                throw CommandError(
                    message: "config file \(path) has no `\(name)`",
                    hint: "add `\(name): …` to the file or set DEALERSYNC_\(name.uppercased().replacingOccurrences(of: ".", with: "_"))")
            }
            return value
        }
        func number(_ key: ConfigKey, _ name: String, default fallback: Int) throws -> Int {
            guard let raw = present(reader.string(forKey: key)) ?? reader.int(forKey: key).map(String.init) else { return fallback }
            guard let value = Int(raw), value > 0 else {
                throw CommandError(message: "`\(name)` in \(path) is \"\(raw)\", not a positive whole number", hint: "set it to e.g. \(fallback)")
            }
            return value
        }
        let capture = CaptureSettings(
            databasePath: try required("database", "database"),
            node: try required("node_id", "node_id"),
            maxLockMillis: try number("capture.max_lock_millis", "capture.max_lock_millis", default: 200),
            busyTimeoutMillis: try number("capture.busy_timeout_millis", "capture.busy_timeout_millis", default: 5_000),
            batchRows: try number("capture.batch_rows", "capture.batch_rows", default: 5_000),
            hashKey: try present(reader.string(forKey: "hash_key_file")).map { try Self.hashKey(file: $0) })
        var hq: HQSettings?
        if let url = present(reader.string(forKey: "hq.url")) {
            var transport = TransportSettings()
            transport.caFile = present(reader.string(forKey: "hq.ca_file"))
            transport.clientCertificate = present(reader.string(forKey: "hq.client_certificate"))
            transport.clientKey = present(reader.string(forKey: "hq.client_key"))
            transport.proxy = present(reader.string(forKey: "hq.proxy"))
            transport.connectTimeoutMillis = try number("hq.connect_timeout_millis", "hq.connect_timeout_millis", default: 10_000)
            var token = present(reader.string(forKey: "hq.token", isSecret: true))
            var source = "hq.token"
            if token == nil, let file = present(reader.string(forKey: "hq.token_file")) {
                source = file
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw CommandError(message: "the token file \(file) cannot be read", hint: "check hq.token_file and that the dealersync user may read it")
                }
                token = present(text.trimmingCharacters(in: .whitespacesAndNewlines))
                warnIfOpenToOthers(tokenFile: file)
            }
            var allowInsecureHTTP = false
            if let raw = present(reader.string(forKey: "hq.allow_insecure_http")) {
                // A misspelt value must not silently mean false (or true): say so.
                guard let value = Bool(raw.lowercased()) else {
                    throw CommandError(
                        message: "`hq.allow_insecure_http` in \(path) is \"\(raw)\", not true or false",
                        hint: "remove it and use https:// to HQ, or set it to true only for a lab network")
                }
                allowInsecureHTTP = value
            }
            hq = HQSettings(
                url: url, allowInsecureHTTP: allowInsecureHTTP, token: token, tokenSource: source, transport: transport,
                pollIntervalMillis: try number("sync.poll_interval_millis", "sync.poll_interval_millis", default: 5_000),
                pullPageRows: try number("sync.pull_page_rows", "sync.pull_page_rows", default: 1_000),
                retry: RetryPolicy(
                    baseMillis: Int64(try number("sync.retry_base_millis", "sync.retry_base_millis", default: 500)),
                    capMillis: Int64(try number("sync.retry_cap_millis", "sync.retry_cap_millis", default: 30_000))))
        }
        return AgentConfig(capture: capture, schemaFile: present(reader.string(forKey: "schema_file")), configPath: path, hq: hq)
    }

    /// The HQ connection, or an error saying what to add to the config.
    func requireHQ() throws -> (HQSettings, token: String) {
        guard let hq else {
            throw CommandError(message: "config file \(configPath) has no `hq.url`", hint: "add `hq:` with `url: https://…` (see deploy/agent.example.yaml)")
        }
        // Checked here, where the token is about to be sent, not in load: `init` and `status`
        // read the same file and never talk to HQ.
        if let problem = AgentConfigChecks.hqURLProblem(hq.url, allowInsecureHTTP: hq.allowInsecureHTTP) {
            throw CommandError(message: problem.message, hint: problem.hint)
        }
        guard let token = hq.token else {
            throw CommandError(
                message: "no HQ token: neither hq.token, the hq-token credential, nor hq.token_file is set",
                hint: "put the token `dealersync hq add-dealer` printed in a file and set hq.token_file (or LoadCredential=hq-token under systemd)")
        }
        return (hq, token)
    }

    /// Warns on stderr (the journal under systemd) when group or others may read or write the
    /// token file: any local account could then push as this dealer. Only `hq.token_file` is
    /// checked; the systemd credential copy in $CREDENTIALS_DIRECTORY is made by systemd,
    /// readable by this service only.
    private static func warnIfOpenToOthers(tokenFile: String, kind: String = "token file") {
        var info = stat()
        guard stat(tokenFile, &info) == 0,
            let problem = AgentConfigChecks.tokenFileProblem(path: tokenFile, mode: UInt32(info.st_mode), kind: kind)
        else { return }
        FileHandle.standardError.write(Data("Warning: \(problem.message)\nTry: \(problem.hint)\n".utf8))
    }

    /// The fleet's key for `hashed` columns, the same file at every store (docs/PRIVACY.md).
    static func hashKey(file: String) throws -> ColumnHashKey {
        guard let bytes = FileManager.default.contents(atPath: file) else {
            throw CommandError(message: "the hash key file \(file) cannot be read", hint: "check hash_key_file and that the dealersync user may read it")
        }
        warnIfOpenToOthers(tokenFile: file, kind: "hash key file")
        do {
            return try ColumnHashKey(bytes: Array(bytes))
        } catch let error as SyncCoreError {
            throw CommandError(message: "hash key file \(file): \(error.message)", hint: error.hint)
        }
    }

    /// YAML `key:`, `key: ~` and `key: null` arrive as "", "~" and "null": all mean unset.
    private static func present(_ value: String?) -> String? {
        guard let value, !["", "~", "null"].contains(value) else { return nil }
        return value
    }

    func loadSchema(override: String?) throws -> SyncSchema {
        guard let file = override ?? schemaFile else {
            throw CommandError(
                message: "no sync schema: the config has no `schema_file` and --schema was not given",
                hint: "pass --schema FILE with the sync schema YAML that HQ publishes (see docs/SYNC-SCHEMA.md)")
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw CommandError(message: "sync schema file \(file) cannot be read", hint: "check the path and its permissions")
        }
        return try SyncSchema(yaml: text, source: file)
    }
}

extension AgentConfig {
    /// The config at `path` and its DMS database, with the agent lock held: for commands
    /// no agent may run beside (`resync`, `pause-capture`). Keep the lock alive while working.
    static func lockedDatabase(path: String) async throws -> (config: AgentConfig, lock: DatabaseLock, database: DealerDatabase) {
        let agent = try await AgentConfig.load(path: path)
        let lock = try DatabaseLock(databasePath: agent.capture.databasePath)
        return (agent, lock, try DealerDatabase(settings: agent.capture))
    }
}
