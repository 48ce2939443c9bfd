// swift-tools-version: 6.0
import PackageDescription

/// A Swift program that embeds effnet the way an app would: it depends on this repository by path and imports only
/// the public API of the `Effnet` and `EffnetRuntime` products. `tools/test.sh` builds and runs it
/// (`tools/embed-test.sh`); see README, "Using effnet from Swift".
let package = Package(
    name: "EmbedTest",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "effnet", path: "../..")],
    targets: [
        .executableTarget(
            name: "EmbedTest",
            dependencies: [
                .product(name: "Effnet", package: "effnet"),
                .product(name: "EffnetRuntime", package: "effnet"),
            ])
    ]
)
