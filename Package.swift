// swift-tools-version:6.0
// leadrouter — tracking events in, lead segments and routing decisions out.
// No SwiftNIO anywhere in the product: sockets are our own (POSIX/epoll), PostgreSQL is libpq.
import PackageDescription

let package = Package(
    name: "leadrouter",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "leadrouter", targets: ["leadrouter"]),
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "Segmentation", targets: ["Segmentation"]),
        .library(name: "LeadRouter", targets: ["LeadRouter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // System libraries, found by pkg-config; each has a module map and a shim header.
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // Tiny C helpers for what Glibc exports badly to Swift (epoll_event is packed, macros).
        .target(name: "CSystemShims"),

        .target(
            name: "HTTPServer",
            dependencies: [
                "COpenSSL", "CSystemShims",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "Segmentation",
            dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(
            name: "LeadRouter",
            dependencies: [
                "HTTPServer", "Postgres", "Segmentation", "COpenSSL", "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]),
        .executableTarget(
            name: "leadrouter",
            dependencies: [
                "LeadRouter", "HTTPServer", "Postgres", "Segmentation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "COpenSSL"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "CLibPQ"]),
        .testTarget(name: "SegmentationTests", dependencies: ["Segmentation"]),
        .testTarget(name: "LeadRouterTests", dependencies: ["LeadRouter"]),
    ]
)
