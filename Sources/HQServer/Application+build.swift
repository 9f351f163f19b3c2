import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SyncCore
import SystemdNotify

/// Builds the HQ application over the SQLite store at `config.storePath` (created and
/// migrated if needed). Used by `dealersync hq serve` and by the tests alike.
///
/// `drain`, when given, answers 503 once shutdown begins; run it after the application in
/// the same `ServiceGroup` (see `HQDrain`). `systemd` is told READY once the listener is
/// bound and pinged while the store answers (`hq serve` passes the process's own).
public func buildApplication(
    _ config: HQConfig, drain: HQDrain? = nil, systemd: SystemdNotifier = .disabled, logger: Logger? = nil
) async throws -> some ApplicationProtocol {
    let store = try SQLiteSyncStore(
        path: config.storePath, tables: config.tablesPath.map { ($0, config.schema) }, maxTableColumns: config.limits.maxTableColumns)
    // HQ's own schema is a version stores may run and push under (docs/ROLLOUT.md); one
    // published before under the same number with other content stops the start here.
    try await store.registerSchema(config.schema, atMillis: Date.nowMillis)
    // A column made local, masked or hashed since the last start: what HQ kept of it goes
    // before HQ serves anyone (docs/PRIVACY.md).
    if let purged = try await store.applyColumnPolicies(config.schema) {
        (logger ?? Logger(label: "dealersync.hq")).notice(
            "column policies applied to what HQ held",
            metadata: [
                "rows": "\(purged.rows)", "feed_entries": "\(purged.feedEntries)", "dead_letters": "\(purged.deadLetters)",
                "conflicts": "\(purged.conflicts)", "sql_table_rows": "\(purged.sqlTableRows)",
            ])
    }
    return buildApplication(config, store: store, drain: drain, systemd: systemd, logger: logger)
}

/// Builds the HQ application over any `SyncStore`: the routes do not know which one.
public func buildApplication<Store: SyncStore>(
    _ config: HQConfig, store: Store, drain: HQDrain? = nil, systemd: SystemdNotifier = .disabled, logger: Logger? = nil
) -> some ApplicationProtocol {
    let logger = logger ?? Logger(label: "dealersync.hq")
    let metrics = HQMetrics()
    let notifier = ChangeNotifier()
    let limits = config.limits
    let queueWait = Duration.milliseconds(limits.maxIngestQueueMillis)
    let schemas = SchemaCatalog(own: config.schema, store: store)
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    router.add(middleware: ErrorMiddleware(logger: logger))
    if let drain { router.add(middleware: DrainMiddleware(drain: drain)) }
    PushController(
        store: store, schemas: schemas, limits: limits,
        uploads: IngestGate(capacity: limits.maxConcurrentUploads, maxWait: queueWait),
        ingests: IngestGate(capacity: limits.maxConcurrentIngests, maxWait: queueWait),
        inFlight: PushesInFlight(maxPerDealer: limits.maxPushesPerDealer),
        notifier: notifier, metrics: metrics, logger: logger
    ).addRoutes(to: router)
    PullController(store: store, schemas: schemas, limits: config.limits, notifier: notifier, metrics: metrics, logger: logger)
        .addRoutes(to: router)
    RolloutController(store: store, schemas: schemas, logger: logger).addRoutes(to: router)
    FeedController(store: store, schema: config.schema, limits: config.limits, metrics: metrics, feedDays: config.retention.feedDays)
        .addRoutes(to: router)
    HQWriteController(store: store, schema: config.schema, limits: config.limits, notifier: notifier, logger: logger)
        .addRoutes(to: router)
    ShareController(store: store, schema: config.schema, limits: limits, notifier: notifier).addRoutes(to: router)
    ErasureController(store: store, schema: config.schema).addRoutes(to: router)
    StatusController(
        store: store, schema: config.schema, metrics: metrics, feedDays: config.retention.feedDays,
        silentAfterMillis: Int64(config.silentAfterSeconds) * 1000
    ).addRoutes(to: router)
    QualityController(store: store, schema: config.schema).addRoutes(to: router)
    CustomerController(store: store, schema: config.schema).addRoutes(to: router)
    if config.console {
        ConsoleController(store: store, schema: config.schema, silentAfterMillis: Int64(config.silentAfterSeconds) * 1000).addRoutes(to: router)
    }
    let filler = TablesFiller(logger: logger) { try await store.fillTables(chunk: 2_000) }
    ShapeController(store: store, schema: config.schema, limits: limits, filler: filler, logger: logger).addRoutes(to: router)
    // Idle connections close (a long poll is not idle), and past max_connections a new
    // connection is answered 503 and closed, so idle sockets cannot use up HQ's descriptors.
    let connections = ConnectionLimit(maxConnections: limits.maxConnections)
    var services: [any Service] = [HQWatchdog(notifier: systemd, check: { _ = try await store.latestSequence() }, logger: logger), filler]
    // Retention compacts the SQLite store's feed (docs/HQ.md, "Retention") and drops old
    // access records, dead letters and conflicts (docs/PRIVACY.md); off when all are 0.
    if let sqlite = store as? SQLiteSyncStore, config.schema.tables.contains(where: { !$0.quality.isEmpty }) {
        services.append(PeriodicService(name: "data-quality snapshot", interval: .seconds(3_600), logger: logger) {
            try await sqlite.recordQualitySnapshot(schema: config.schema, day: QualityWriter.today())
        })
    }
    if config.schema.identity != nil && config.tablesPath != nil {
        services.append(IdentityService(store: store, notifier: notifier, logger: logger))
    }
    if let sqlite = store as? SQLiteSyncStore, config.console {
        // Every dealer's backlog and push volume, for the console's charts (a week is kept).
        services.append(PeriodicService(name: "status history", interval: .seconds(300), logger: logger) {
            try await sqlite.recordStatusHistory(schema: config.schema, atMillis: Date.nowMillis)
        })
    }
    if let sqlite = store as? SQLiteSyncStore {
        // Also with every retention setting 0: it rewrites HQ's files after erasures.
        services.append(RetentionService(store: sqlite, schema: config.schema, retention: config.retention, logger: logger))
    }
    return Application(
        router: router,
        server: .http1(configuration: .init(
            additionalChannelHandlers: [ConnectionLimitHandler(limit: connections)],
            idleTimeout: .seconds(Int64(limits.idleTimeoutSeconds)))),
        configuration: ApplicationConfiguration(address: .hostname(config.host, port: config.port), serverName: "dealersync-hq"),
        services: services,
        onServerRunning: { channel in
            systemd.ready()
            systemd.status("serving on \(channel.localAddress.map { "\($0)" } ?? "\(config.host):\(config.port)")")
        },
        logger: logger)
}
