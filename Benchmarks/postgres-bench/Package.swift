// swift-tools-version:6.0
// The Postgres module's benchmark client; run through scripts/bench-postgres.sh, which compares it
// with pgbench on the same SQL. A separate package so the product never links it.
import PackageDescription

let package = Package(
    name: "postgres-bench",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "leadrouter", path: "../.."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "postgres-bench",
            dependencies: [
                .product(name: "Postgres", package: "leadrouter"),
                .product(name: "Logging", package: "swift-log"),
            ])
    ]
)
