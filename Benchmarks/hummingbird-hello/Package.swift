// swift-tools-version:6.0
// Benchmark-only reference peer for scripts/bench-http.sh: a Hummingbird 2 hello-world that
// serves the same small JSON body as leadrouter's /healthz. The product never links this package.
import PackageDescription

let package = Package(
    name: "hummingbird-hello",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
    ],
    targets: [
        .executableTarget(
            name: "HummingbirdHello",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")]),
    ]
)
