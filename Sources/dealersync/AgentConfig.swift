import Configuration
import Foundation
import SyncCapture
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
struct AgentConfig {
    var capture: CaptureSettings
    var schemaFile: String?
    var configPath: String

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
            batchRows: try number("capture.batch_rows", "capture.batch_rows", default: 5_000))
        return AgentConfig(capture: capture, schemaFile: present(reader.string(forKey: "schema_file")), configPath: path)
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
