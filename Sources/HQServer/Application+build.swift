import Hummingbird
import Logging
import SyncCore

/// Builds the HQ application over the SQLite store at `config.storePath` (created and
/// migrated if needed). Used by `dealersync hq serve` and by the tests alike.
///
/// `drain`, when given, answers 503 once shutdown begins; run it after the application in
/// the same `ServiceGroup` (see `HQDrain`).
public func buildApplication(_ config: HQConfig, drain: HQDrain? = nil, logger: Logger? = nil) async throws -> some ApplicationProtocol {
    let store = try SQLiteSyncStore(path: config.storePath)
    return buildApplication(config, store: store, drain: drain, logger: logger)
}

/// Builds the HQ application over any `SyncStore`: the routes do not know which one.
public func buildApplication<Store: SyncStore>(
    _ config: HQConfig, store: Store, drain: HQDrain? = nil, logger: Logger? = nil
) -> some ApplicationProtocol {
    let logger = logger ?? Logger(label: "dealersync.hq")
    let metrics = HQMetrics()
    let notifier = ChangeNotifier()
    let gate = IngestGate(capacity: config.limits.maxConcurrentIngests, maxWait: .milliseconds(config.limits.maxIngestQueueMillis))
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    router.add(middleware: ErrorMiddleware(logger: logger))
    if let drain { router.add(middleware: DrainMiddleware(drain: drain)) }
    PushController(
        store: store, schema: config.schema, limits: config.limits, gate: gate, notifier: notifier, metrics: metrics, logger: logger
    ).addRoutes(to: router)
    PullController(store: store, schema: config.schema, limits: config.limits, notifier: notifier, metrics: metrics, logger: logger)
        .addRoutes(to: router)
    FeedController(store: store, schema: config.schema, limits: config.limits, metrics: metrics).addRoutes(to: router)
    HQWriteController(store: store, schema: config.schema, limits: config.limits, notifier: notifier, logger: logger)
        .addRoutes(to: router)
    StatusController(store: store, schema: config.schema, metrics: metrics).addRoutes(to: router)
    return Application(
        router: router,
        configuration: ApplicationConfiguration(address: .hostname(config.host, port: config.port), serverName: "dealersync-hq"),
        logger: logger)
}
