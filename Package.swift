// swift-tools-version: 6.1
import PackageDescription

// Module layout and dependency direction: see docs/ARCHITECTURE.md (from ../shared/DESIGN.md).
// Each module may import only the modules below it.
let package = Package(
    name: "dealersync",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "dealersync", targets: ["dealersync"]),
        .executable(name: "dealersync-bench", targets: ["dealersync-bench"]),
        .library(name: "SyncCore", targets: ["SyncCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["JSON", "YAML"]),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // The connection limit is a channel handler in HQ's HTTP/1 pipeline.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        // System library shims. Typed Swift-callable wrappers for C macros and variadics
        // live in each shim.h.
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),

        // Pure sync core: values, clocks, merge, batch format, gzip codec. No I/O.
        .target(
            name: "SyncCore",
            dependencies: [
                "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
                // Parses the sync schema document; pure parsing, no I/O.
                .product(name: "Yams", package: "Yams"),
            ]),

        // Every SQL statement that touches a dealer's DMS database.
        .target(
            name: "SyncCapture",
            dependencies: [
                "SyncCore", "SQLiteValues",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // sd_notify for both daemons: READY, WATCHDOG, STATUS, STOPPING on $NOTIFY_SOCKET.
        .target(name: "SystemdNotify"),

        // The dealership daemon: service loop, retries, libcurl transport, status.
        .target(
            name: "SyncAgent",
            dependencies: [
                "SyncCore", "SyncCapture", "CCurl", "SystemdNotify",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),

        // The HQ service: Hummingbird app, routes, auth, HQ store.
        .target(
            name: "HQServer",
            dependencies: [
                "SyncCore", "SystemdNotify", "DataQuality", "SQLiteValues", "CustomerIdentity",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]),

        // SyncCore's values to and from GRDB's, exactly (the DMS side and HQ's SQL tables).
        .target(
            name: "SQLiteValues",
            dependencies: ["SyncCore", .product(name: "GRDB", package: "GRDB.swift")]),

        // Pure: normalisers of what identifies a person or a vehicle (mainland mobile numbers,
        // resident ID numbers, VINs, names), shared by data quality and identity linking.
        .target(name: "CustomerIdentity", dependencies: ["SyncCore"]),

        // Pure: the sync schema's quality rules evaluated on one row.
        .target(name: "DataQuality", dependencies: ["SyncCore", "CustomerIdentity"]),

        // Seeded, realistic dealership data for demo, benchmarks and tests.
        .target(name: "DealershipData", dependencies: ["CustomerIdentity"]),

        // `dealersync demo`: three stores and HQ on this machine (ships in the binary).
        .target(
            name: "SyncDemo",
            dependencies: [
                "SyncCore", "SyncCapture", "SyncAgent", "HQServer", "DealershipData",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),

        // Command-line wiring only.
        .executableTarget(
            name: "dealersync",
            dependencies: [
                "SyncCore", "SyncCapture", "SyncAgent", "HQServer", "DealershipData", "SyncDemo", "SystemdNotify",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),

        // Benchmarks: figures against baselines measured in the same run.
        .executableTarget(
            name: "dealersync-bench",
            dependencies: [
                "SyncCore", "SyncCapture", "SyncAgent", "HQServer", "SyncTestSupport", "DealershipData", "SyncDemo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),

        // Test helpers: temporary directories and databases, fixtures.
        .target(
            name: "SyncTestSupport",
            dependencies: [
                "SyncCore", "SyncCapture", "DealershipData", "SyncDemo", "CZlib",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .testTarget(
            name: "SyncCoreTests",
            dependencies: ["SyncCore", "SyncTestSupport", "SQLiteValues"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "SyncCaptureTests",
            dependencies: [
                "SyncCapture", "SyncCore", "SyncTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(
            name: "CommandTests",
            dependencies: ["SyncTestSupport"]),
        .testTarget(
            name: "DealershipDataTests",
            dependencies: ["DealershipData", "DataQuality", "CustomerIdentity", "SyncCore"]),
        .testTarget(
            name: "DataQualityTests",
            dependencies: ["DataQuality", "CustomerIdentity", "SyncCore"]),
        .testTarget(
            name: "HQServerTests",
            dependencies: [
                "HQServer", "SyncTestSupport", "DealershipData",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .testTarget(
            name: "SyncAgentTests",
            dependencies: ["SyncAgent", "SystemdNotify", "SyncTestSupport"]),
        .testTarget(
            name: "AgentIntegrationTests",
            dependencies: [
                "SyncAgent", "SyncCapture", "HQServer", "SyncTestSupport", "SyncDemo",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Crash, restart, clock and disk-full scenarios with real processes and files.
        // Counts grow with DEALERSYNC_CHAOS_SCALE (scripts/chaos).
        .testTarget(
            name: "ReliabilityTests",
            dependencies: [
                "SyncAgent", "SyncCapture", "HQServer", "SyncTestSupport", "SyncDemo",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        // Runs the built dealersync-bench binary's quick mode, so the bench never rots.
        .testTarget(
            name: "BenchTests",
            dependencies: ["SyncTestSupport"]),
        .testTarget(
            name: "ShimTests",
            dependencies: ["CZlib", "CCurl"]),
    ]
)
