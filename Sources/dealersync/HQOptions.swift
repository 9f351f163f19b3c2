import ArgumentParser
import Configuration
import Foundation
import HQServer
import SyncCore

/// Where the HQ commands find their settings: `--config hq.yaml` (keys in `HQConfig`), or
/// `--store PATH` alone for the administration commands.
struct HQOptions: ParsableArguments {
    @Option(name: .long, help: "The HQ configuration file (YAML).")
    var config: String?

    @Option(name: .long, help: "The HQ store file; overrides store.path from --config.")
    var store: String?

    /// The full configuration, as `serve` needs it.
    func loadConfig() async throws -> HQConfig {
        guard let path = config else {
            throw CommandError("no configuration file given", hint: "pass --config hq.yaml (see docs/HQ.md for its keys)")
        }
        var config = try await HQConfig(reader: reader(path), relativeTo: Self.directory(of: path))
        if let store { config.storePath = store }
        return config
    }

    /// The store path, from `--store` or the configuration's `store.path`.
    func storePath() async throws -> String {
        if let store { return store }
        guard let path = config else {
            throw CommandError("no store given", hint: "pass --config hq.yaml or --store PATH")
        }
        let reader = try await reader(path)
        guard let value = reader.string(forKey: "store.path"), !["", "~", "null"].contains(value) else {
            throw CommandError("the setting store.path is missing in \(path)", hint: "add store.path to \(path) or pass --store PATH")
        }
        return value.hasPrefix("/") ? value : Self.directory(of: path) + "/" + value
    }

    /// The sync schema when a configuration names one (status uses it for backlogs).
    func schemaIfConfigured() async throws -> SyncSchema? {
        guard config != nil else { return nil }
        return try await loadConfig().schema
    }

    private func reader(_ path: String) async throws -> ConfigReader {
        let yaml: FileProvider<YAMLSnapshot>
        do {
            yaml = try await FileProvider<YAMLSnapshot>(filePath: .init(path), allowMissing: false)
        } catch {
            throw CommandError("cannot read the configuration file \(path)", hint: "check the path and that it is valid YAML")
        }
        let env = EnvironmentVariablesProvider().prefixKeys(with: "dealersync")
        let defaults = InMemoryProvider(name: "defaults", values: ["http.port": 8443])
        return ConfigReader(providers: [env, yaml, defaults])
    }

    static func directory(of path: String) -> String {
        let url = URL(fileURLWithPath: path).deletingLastPathComponent()
        return url.path
    }
}
