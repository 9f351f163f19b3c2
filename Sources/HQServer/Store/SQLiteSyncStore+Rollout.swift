import Foundation
import GRDB
import SyncCore

/// Schema rollout by group and remote requests (docs/ROLLOUT.md).
extension SQLiteSyncStore {
    public func publishSchema(_ schema: SyncSchema, to group: String?, atMillis: Int64) async throws -> SchemaPublication {
        try await pool.write { db in
            let stored = try Self.storeSchema(db, schema, atMillis: atMillis)
            var moved: [String: UInt64?] = [:]
            if let group {
                guard let current = try Self.groupVersion(db, group) else {
                    throw StoreError(kind: .notFound, message: "no group is named \(group)", hint: "create it with `dealersync hq group add \(group)`, or list groups with `dealersync hq group list`")
                }
                if let running = current, running > schema.version {
                    throw StoreError(
                        kind: .exists, message: "group \(group) runs schema version \(running) already, newer than \(schema.version)",
                        hint: "stores never go back to an older schema: publish the old content as version \(running + 1) instead")
                }
                if current != schema.version {
                    try Self.requireKeepsTables(db, schema, from: current, group: group)
                    try db.execute(sql: "UPDATE dealer_groups SET schema_version = ?, updated_ms = ? WHERE name = ?", arguments: [Int64(schema.version), atMillis, group])
                    moved[group] = current
                }
            } else {
                // Fleet-wide: every group below this version moves up; none moves down.
                for row in try Row.fetchAll(db, sql: "SELECT name, schema_version FROM dealer_groups WHERE schema_version IS NULL OR schema_version < ?", arguments: [Int64(schema.version)]) {
                    let current = (row["schema_version"] as Int64?).map(UInt64.init)
                    try Self.requireKeepsTables(db, schema, from: current, group: row["name"])
                    moved[row["name"]] = current
                }
                try db.execute(
                    sql: "UPDATE dealer_groups SET schema_version = ?, updated_ms = ? WHERE schema_version IS NULL OR schema_version < ?",
                    arguments: [Int64(schema.version), atMillis, Int64(schema.version)])
            }
            return SchemaPublication(version: schema.version, stored: stored, movedGroups: moved)
        }
    }

    /// Stores HQ's own schema (`schema_file`) as a version agents may fetch and push under
    /// (`hq serve` does this at start). Groups that never had a version get this one, once:
    /// from then on only `publish` moves a group, so editing `schema_file` and restarting
    /// HQ never rolls a schema out to the fleet by itself.
    public func registerSchema(_ schema: SyncSchema, atMillis: Int64) async throws {
        try await pool.write { db in
            _ = try Self.storeSchema(db, schema, atMillis: atMillis)
            try db.execute(
                sql: "UPDATE dealer_groups SET schema_version = ?, updated_ms = ? WHERE schema_version IS NULL", arguments: [Int64(schema.version), atMillis])
        }
    }

    /// True when stored now; false when this exact schema was stored before. A version
    /// stored with other content is refused: agents may already run it.
    private static func storeSchema(_ db: Database, _ schema: SyncSchema, atMillis: Int64) throws -> Bool {
        let yaml = schema.yaml()
        let sha = BodyChecksum.sha256Hex(Array(yaml.utf8))
        if let existing = try String.fetchOne(db, sql: "SELECT sha256 FROM schema_versions WHERE version = ?", arguments: [Int64(schema.version)]) {
            guard existing == sha else {
                throw StoreError(
                    kind: .exists, message: "schema version \(schema.version) was published before with other content",
                    hint: "published versions never change (stores may run it): give the new schema a higher `version:`")
            }
            return false
        }
        try db.execute(
            sql: "INSERT INTO schema_versions (version, yaml, sha256, published_ms) VALUES (?, ?, ?, ?)",
            arguments: [Int64(schema.version), yaml, sha, atMillis])
        return true
    }

    /// A new version may add and change tables, never drop one a group's stores sync now:
    /// the agent refuses such a version (dropping takes `init --remove` at each store).
    private static func requireKeepsTables(_ db: Database, _ schema: SyncSchema, from current: UInt64?, group: String) throws {
        guard let current, let yaml = try String.fetchOne(db, sql: "SELECT yaml FROM schema_versions WHERE version = ?", arguments: [Int64(current)]),
              let old = try? SyncSchema(yaml: yaml)
        else { return }
        if let dropped = old.tables.first(where: { schema.table(named: $0.name) == nil }) {
            throw StoreError(
                kind: .exists, message: "version \(schema.version) drops table '\(dropped.name)', which group \(group) syncs under version \(current)",
                hint: "keep the table in the new version (stores refuse a schema that drops a table)")
        }
    }

    /// nil: no such group; .some(nil): the group exists and runs HQ's own schema.
    private static func groupVersion(_ db: Database, _ group: String) throws -> UInt64?? {
        guard let row = try Row.fetchOne(db, sql: "SELECT schema_version FROM dealer_groups WHERE name = ?", arguments: [group]) else { return nil }
        return .some((row["schema_version"] as Int64?).map(UInt64.init))
    }

    public func publishedSchema(version: UInt64) async throws -> PublishedSchema? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT version, yaml, published_ms FROM schema_versions WHERE version = ?", arguments: [Int64(version)])
                .map { PublishedSchema(version: UInt64($0["version"] as Int64), yaml: $0["yaml"], publishedAtMillis: $0["published_ms"]) }
        }
    }

    public func backlog(for dealer: NodeID, schema: SyncSchema, after: UInt64) async throws -> Int {
        let routing = RoutingSQL(schema: schema)
        return try await pool.read { db in
            try Self.backlog(db, dealer: dealer.rawValue, pulled: Int64(bitPattern: after), latest: Int64(bitPattern: try Self.latestSequence(db)), routing: routing)
        }
    }

    /// Every published version after `version`, oldest first (`hq schema list`).
    public func publishedSchemas(after version: UInt64) async throws -> [PublishedSchema] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT version, yaml, published_ms FROM schema_versions WHERE version > ? ORDER BY version", arguments: [Int64(version)])
                .map { PublishedSchema(version: UInt64($0["version"] as Int64), yaml: $0["yaml"], publishedAtMillis: $0["published_ms"]) }
        }
    }

    public func assignment(dealer: NodeID) async throws -> DealerAssignment {
        try await pool.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT g.name, g.schema_version, g.agent_settings FROM principals p
                    JOIN dealer_groups g ON g.name = COALESCE(p.group_name, 'default') WHERE p.id = ?
                    """,
                arguments: [dealer.rawValue])
            let request = try Row.fetchOne(
                db, sql: "SELECT * FROM remote_requests WHERE dealer = ? AND state IN ('pending', 'running') ORDER BY id LIMIT 1",
                arguments: [dealer.rawValue]
            ).map(Self.remoteRequest)
            return DealerAssignment(
                group: row?["name"] ?? DealerGroup.defaultName, schemaVersion: (row?["schema_version"] as Int64?).map(UInt64.init), request: request,
                agentSettings: (row?["agent_settings"] as String?).flatMap(GroupAgentSettings.init(headerValue:)))
        }
    }

    public func recordRequestProgress(dealer: NodeID, id: Int64, state: RemoteRequest.State, done: Int, total: Int, message: String?, atMillis: Int64) async throws {
        try await pool.write { db in
            // A finished request stays finished: a late or replayed report cannot reopen it.
            try db.execute(
                sql: """
                    UPDATE remote_requests SET state = ?, done = ?, total = ?, message = ?, updated_ms = ?
                    WHERE id = ? AND dealer = ? AND state IN ('pending', 'running')
                    """,
                arguments: [state.rawValue, done, total, message, atMillis, id, dealer.rawValue])
            guard db.changesCount == 1 else {
                throw StoreError(kind: .notFound, message: "dealer \(dealer) has no open request \(id)", hint: "report progress only for the request HQ sent with the last pull")
            }
        }
    }

    // MARK: Administration (the `hq group`, `hq schema` and `hq resync` commands)

    public func addGroup(_ name: String, atMillis: Int64) async throws {
        guard DealerGroup.isValidName(name) else {
            throw StoreError(kind: .notFound, message: "'\(name)' is not a usable group name", hint: "use 1-64 letters, digits, '.', '_' or '-', e.g. pilot or wave-2")
        }
        try await pool.write { db in
            guard try Self.groupVersion(db, name) == nil else {
                throw StoreError(kind: .exists, message: "group \(name) exists already", hint: "list groups with `dealersync hq group list`")
            }
            // A new group starts on the default group's version: moving a store into it
            // changes nothing until a version is published to the group.
            try db.execute(
                sql: "INSERT INTO dealer_groups (name, schema_version, updated_ms) SELECT ?, schema_version, ? FROM dealer_groups WHERE name = 'default'",
                arguments: [name, atMillis])
        }
    }

    /// Sets the agent settings a group's stores use over their own config (nil: clears them).
    public func setAgentSettings(_ settings: GroupAgentSettings?, group: String, atMillis: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE dealer_groups SET agent_settings = ?, updated_ms = ? WHERE name = ?",
                arguments: [settings.flatMap { $0.isEmpty ? nil : $0.headerValue }, atMillis, group])
            guard db.changesCount == 1 else {
                throw StoreError(kind: .notFound, message: "no group is named \(group)", hint: "list groups with `dealersync hq group list`")
            }
        }
    }

    /// Moves dealers into `group`. Refused when the group runs an older schema than one of
    /// them: a store never goes back to an older schema.
    public func moveDealers(_ dealers: [String], to group: String) async throws {
        try await pool.write { db in
            guard let target = try Self.groupVersion(db, group) else {
                throw StoreError(kind: .notFound, message: "no group is named \(group)", hint: "create it with `dealersync hq group add \(group)`")
            }
            for dealer in dealers {
                guard let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT p.kind, g.schema_version FROM principals p JOIN dealer_groups g ON g.name = COALESCE(p.group_name, 'default')
                        WHERE p.id = ?
                        """,
                    arguments: [dealer]), row["kind"] as String == PrincipalKind.dealer.rawValue
                else {
                    throw StoreError(kind: .notFound, message: "no dealer has the id \(dealer)", hint: "run `dealersync hq status` to list dealers")
                }
                let current = (row["schema_version"] as Int64?).map(UInt64.init)
                if let current, current > (target ?? 0) {
                    throw StoreError(
                        kind: .exists, message: "dealer \(dealer) runs schema version \(current), newer than group \(group)'s \(target.map { "\($0)" } ?? "HQ schema")",
                        hint: "publish version \(current) or newer to \(group) first (`dealersync hq schema publish FILE --group \(group)`)")
                }
                try db.execute(sql: "UPDATE principals SET group_name = ? WHERE id = ?", arguments: [group == DealerGroup.defaultName ? nil : group, dealer])
            }
        }
    }

    /// Every group with its version, how many dealers it has and how many run that version.
    /// `hqVersion`: the version of HQ's own schema, which groups without one run.
    public func groups(hqVersion: UInt64?) async throws -> [DealerGroup] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT g.name, g.schema_version, g.agent_settings,
                      (SELECT count(*) FROM principals p WHERE p.kind = 'dealer' AND p.revoked_ms IS NULL
                         AND COALESCE(p.group_name, 'default') = g.name) AS dealers,
                      (SELECT count(*) FROM principals p WHERE p.kind = 'dealer' AND p.revoked_ms IS NULL
                         AND COALESCE(p.group_name, 'default') = g.name AND p.schema_running = COALESCE(g.schema_version, ?)) AS running
                    FROM dealer_groups g ORDER BY g.name
                    """,
                arguments: [hqVersion.map { Int64($0) }]
            ).map {
                DealerGroup(
                    name: $0["name"], schemaVersion: ($0["schema_version"] as Int64?).map(UInt64.init), dealers: $0["dealers"], dealersRunning: $0["running"],
                    agentSettings: ($0["agent_settings"] as String?).flatMap(GroupAgentSettings.init(headerValue:)))
            }
        }
    }

    /// Asks `dealer` to resync `table` (nil: every table) at its next cycle. An open
    /// request of the same kind is returned instead of queuing a second one.
    public func requestResync(dealer: String, table: String?, atMillis: Int64) async throws -> RemoteRequest {
        try await pool.write { db in
            guard try String.fetchOne(db, sql: "SELECT kind FROM principals WHERE id = ? AND revoked_ms IS NULL", arguments: [dealer]) == PrincipalKind.dealer.rawValue else {
                throw StoreError(kind: .notFound, message: "no active dealer has the id \(dealer)", hint: "run `dealersync hq status` to list dealers")
            }
            if let open = try Row.fetchOne(
                db, sql: "SELECT * FROM remote_requests WHERE dealer = ? AND kind = 'resync' AND table_name IS ? AND state IN ('pending', 'running')",
                arguments: [dealer, table]) {
                return Self.remoteRequest(open)
            }
            try db.execute(
                sql: "INSERT INTO remote_requests (dealer, kind, table_name, requested_ms, updated_ms) VALUES (?, 'resync', ?, ?, ?)",
                arguments: [dealer, table, atMillis, atMillis])
            return Self.remoteRequest(try Row.fetchOne(db, sql: "SELECT * FROM remote_requests WHERE id = ?", arguments: [db.lastInsertedRowID])!)
        }
    }

    /// The newest `limit` requests, one dealer's when given.
    public func remoteRequests(dealer: String?, limit: Int) async throws -> [RemoteRequest] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM remote_requests WHERE ? IS NULL OR dealer = ? ORDER BY id DESC LIMIT ?", arguments: [dealer, dealer, limit]
            ).map(Self.remoteRequest)
        }
    }

    static func remoteRequest(_ row: Row) -> RemoteRequest {
        RemoteRequest(
            id: row["id"], dealer: row["dealer"], kind: row["kind"], table: row["table_name"], requestedAtMillis: row["requested_ms"],
            state: RemoteRequest.State(rawValue: row["state"]) ?? .failed, done: row["done"], total: row["total"], message: row["message"],
            updatedAtMillis: row["updated_ms"])
    }
}
