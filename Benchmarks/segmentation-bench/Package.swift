// swift-tools-version:6.0
// The segmentation benchmark: its own package so the product never links it. Run it through
// scripts/bench-segmentation.sh (release build, malloc-counting interposer, reference side by side).
import PackageDescription

let package = Package(
    name: "segmentation-bench",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "leadrouter", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "segmentation-bench",
            dependencies: [.product(name: "Segmentation", package: "leadrouter")]),
    ]
)
