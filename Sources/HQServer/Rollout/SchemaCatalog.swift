import Synchronization
import SyncCore

/// The sync schema versions HQ knows, parsed once each (docs/ROLLOUT.md): HQ's own schema
/// (`schema_file`, what HQ's SQL tables, quality and identity follow) and every version
/// published to groups of stores. A push is merged under the version it was written for;
/// a pull is routed under the version the dealer is assigned.
final class SchemaCatalog: Sendable {
    /// HQ's own schema; groups without a published version run it.
    let own: SyncSchema
    private let load: @Sendable (UInt64) async throws -> PublishedSchema?
    private let parsed = Mutex<[UInt64: SyncSchema]>([:])

    init(own: SyncSchema, load: @escaping @Sendable (UInt64) async throws -> PublishedSchema?) {
        self.own = own
        self.load = load
    }

    convenience init(own: SyncSchema, store: some SyncStore) {
        self.init(own: own) { try await store.publishedSchema(version: $0) }
    }

    /// The schema with this version, nil when HQ never had it. Published versions never
    /// change, so a parsed one is kept for good.
    func schema(version: UInt64) async throws -> SyncSchema? {
        if let cached = parsed.withLock({ $0[version] }) { return cached }
        guard let published = try await load(version) else { return version == own.version ? own : nil }
        let schema: SyncSchema
        do {
            schema = try SyncSchema(yaml: published.yaml, source: "published schema version \(version)")
        } catch {
            throw HQError(.internalServerError, "the published schema version \(version) no longer parses", hint: "publish a new version with `dealersync hq schema publish`")
        }
        parsed.withLock { $0[version] = schema }
        return schema
    }

    /// The schema a dealer is to run: its group's version, or HQ's own.
    func assigned(_ assignment: DealerAssignment) async throws -> SyncSchema {
        guard let version = assignment.schemaVersion else { return own }
        guard let schema = try await schema(version: version) else {
            throw HQError(.internalServerError, "group \(assignment.group) is assigned schema version \(version), which HQ does not have", hint: "publish a schema to the group again")
        }
        return schema
    }
}
