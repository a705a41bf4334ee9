// swift-tools-version:6.0
// leadrouter — tracking events in, lead segments and routing decisions out.
// No SwiftNIO anywhere in the product: sockets are our own (POSIX/epoll), PostgreSQL is libpq.
//
// The targets form a one-way graph (docs/architecture.md): helpers and C libraries at the
// bottom, then the HTTP server, the PostgreSQL client and the pure rule engine, then storage,
// the features (ingest, sales queues, webhooks), the HTTP API, the service that wires them, and
// the command line. A feature calls another only through protocols declared in `LeadStore`.
import PackageDescription

let log = Target.Dependency.product(name: "Logging", package: "swift-log")
/// Release builds let the optimizer see across targets: the split into one target per
/// responsibility otherwise hides small generic helpers (JSONWriter's, the lock family's) from
/// their callers, which then run them unspecialised on the write path.
let crossModule: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]
let yams = Target.Dependency.product(name: "Yams", package: "Yams")

let package = Package(
    name: "leadrouter",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "leadrouter", targets: ["LeadRouterCLI"]),
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "Segmentation", targets: ["Segmentation"]),
        .library(name: "LeadRouterService", targets: ["LeadRouterService"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Metrics API and its Prometheus backend; neither pulls in SwiftNIO (swift-prometheus
        // needs only swift-atomics and swift-metrics' CoreMetrics).
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Mustache templates for the server-rendered /dashboard; no dependencies, no SwiftNIO.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // System libraries, found by pkg-config; each has a module map and a shim header.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibdeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        // Tiny C helpers for what Glibc exports badly to Swift (epoll_event is packed, macros).
        .target(name: "CSystemShims"),

        // What the binary carries inside itself (migrations, sample ruleset, configuration
        // reference, OpenAPI document, git revision), generated at build time by the plugin
        // below from the repository's files, so a binary copied alone can migrate and serve.
        .target(name: "Embedded", plugins: ["EmbedFilesPlugin"]),
        .plugin(name: "EmbedFilesPlugin", capability: .buildTool(), path: "Sources/EmbedFilesPlugin"),

        // One of each small helper: lock, hex, civil dates, periodic jobs. No dependencies.
        .target(name: "Essentials", dependencies: ["CSystemShims"], swiftSettings: crossModule),
        // Hashes, HMAC, randomness, request/webhook signatures, OpenSSL error text.
        .target(name: "Cryptography", dependencies: ["COpenSSL", "Essentials"], swiftSettings: crossModule),

        // Infrastructure that knows nothing of leads.
        .target(name: "HTTPServer", dependencies: ["COpenSSL", "CSystemShims", "Essentials", "Cryptography", log], swiftSettings: crossModule),
        .target(name: "OutboundHTTP", dependencies: ["COpenSSL", "Essentials", "Cryptography"], swiftSettings: crossModule),
        .target(name: "Postgres", dependencies: ["CLibPQ", "Essentials", log], swiftSettings: crossModule),
        // The pure rule engine: `now` is an argument, no I/O.
        .target(name: "Segmentation", dependencies: ["Essentials", yams], swiftSettings: crossModule),

        // Data hygiene and the one traits → lead-state mapper (ingest and `rules test`).
        .target(name: "Profiles", dependencies: ["Segmentation", "Essentials"], swiftSettings: crossModule),
        // `rules check` / `rules test`: reports, case files, the journey runner.
        .target(name: "RulesTools", dependencies: ["Segmentation", "Profiles", yams], swiftSettings: crossModule),
        // The write path's JSON reader and writer.
        .target(name: "JSONCoding", dependencies: ["Segmentation", "Postgres", "Essentials"], swiftSettings: crossModule),

        // All SQL, the row types, and the protocols features call each other through.
        .target(name: "LeadStore", dependencies: ["Postgres", "Segmentation", "JSONCoding", "Cryptography", "CZlib", "Essentials"],
                swiftSettings: crossModule),

        // Features.
        .target(name: "Ingest", dependencies: ["LeadStore", "Profiles", "Segmentation", "JSONCoding", "Postgres", "Essentials", log], swiftSettings: crossModule),
        .target(name: "SalesQueues", dependencies: ["LeadStore", "Segmentation", "Postgres", "Essentials", log], swiftSettings: crossModule),
        .target(name: "Webhooks", dependencies: ["LeadStore", "OutboundHTTP", "Cryptography", "Segmentation", "Postgres",
                                                 "Essentials", log], swiftSettings: crossModule),
        .target(name: "Privacy", dependencies: ["LeadStore", "JSONCoding", "Segmentation", "Postgres", "Essentials", log],
                swiftSettings: crossModule),

        // What operators watch: Prometheus metrics (swift-metrics instruments, scrape-time
        // gauges read from PostgreSQL).
        .target(name: "Insight", dependencies: ["HTTPServer", "LeadStore", "Segmentation", "Postgres", "Essentials", log,
                                                .product(name: "CoreMetrics", package: "swift-metrics"),
                                                .product(name: "Prometheus", package: "swift-prometheus")],
                swiftSettings: crossModule),

        .target(name: "Rulesets", dependencies: ["LeadStore", "RulesTools", "Segmentation", "Postgres", "Essentials", log],
                swiftSettings: crossModule),

        // Routes, authentication, problem documents.
        .target(name: "HTTPAPI", dependencies: ["HTTPServer", "Insight", "Ingest", "SalesQueues", "Webhooks", "Privacy", "Rulesets", "LeadStore",
                                                "Profiles", "RulesTools", "Cryptography", "JSONCoding", "Segmentation", "Postgres",
                                                "Essentials", "CZlib", "CLibdeflate", .product(name: "Mustache", package: "swift-mustache")],
                swiftSettings: crossModule),
        // Wiring: configuration, the app, `dev`'s embedded PostgreSQL.
        .target(name: "LeadRouterService", dependencies: ["HTTPAPI", "HTTPServer", "Insight", "Ingest", "SalesQueues", "Webhooks", "Privacy", "Rulesets",
                                                          "LeadStore", "Profiles", "RulesTools", "Segmentation", "Postgres",
                                                          "Essentials", "Embedded", log, yams], swiftSettings: crossModule),
        // The `leadrouter` command line.
        .executableTarget(name: "LeadRouterCLI", dependencies: [
            "LeadRouterService", "RulesTools", "Rulesets", "LeadStore", "SalesQueues", "Privacy", "Profiles", "HTTPServer", "Postgres", "Segmentation",
            "Embedded",
            .product(name: "ArgumentParser", package: "swift-argument-parser"), log,
        ], swiftSettings: crossModule),

        .testTarget(name: "EssentialsTests", dependencies: ["Essentials"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "COpenSSL"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "CLibPQ", "Essentials"]),
        .testTarget(name: "SegmentationTests", dependencies: ["Segmentation", "RulesTools", "Profiles"]),
        .testTarget(name: "LeadRouterTests", dependencies: [
            "LeadRouterService", "HTTPAPI", "Insight", "Ingest", "SalesQueues", "Webhooks", "Privacy", "Rulesets", "LeadStore", "Profiles", "RulesTools",
            "JSONCoding", "Cryptography", "OutboundHTTP", "Essentials", "HTTPServer", "Postgres", "Segmentation", "Embedded",
        ]),
    ]
)
