// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// Release builds target the host CPU so that `addingProduct` becomes one FMA instruction instead of a call
/// to `fmaf` (measured: 266 vs 1.5 GFLOP/s). `EFFNET_TARGET_CPU=generic` (or a CPU name such as `znver4`,
/// `skylake-avx512`, `x86-64-v3`) overrides the choice for portable builds.
let targetCPU = ProcessInfo.processInfo.environment["EFFNET_TARGET_CPU"] ?? "native"
let cpuFlags: [String] = targetCPU == "generic" ? [] : ["-target-cpu", targetCPU]
let kernelSettings: [SwiftSetting] = [
    .unsafeFlags(cpuFlags),
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "effnet",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "effnet", targets: ["effnet"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // C shims: system libraries and the protoc-c output of onnx.proto.
        .systemLibrary(
            name: "CProtobufC", path: "Sources/CShims/CProtobufC", pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CShims/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CJPEG", path: "Sources/CShims/CJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(
            name: "CPNG", path: "Sources/CShims/CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CHDF5", path: "Sources/CShims/CHDF5", pkgConfig: "hdf5-serial",
            providers: [.apt(["libhdf5-dev"])]),
        // setjmp targets for libjpeg/libpng fatal errors (Swift cannot longjmp); used only by Imaging.
        .target(name: "CImageShim", dependencies: ["CJPEG", "CPNG"], path: "Sources/CShims/CImageShim"),
        .target(
            name: "ONNXProto", dependencies: ["CProtobufC"], path: "Sources/CShims/ONNXProto", exclude: ["onnx.proto"]),

        // Swift modules, bottom to top (DESIGN.md).
        .target(name: "IR", swiftSettings: kernelSettings),
        .target(name: "Formats", dependencies: ["IR", "CZlib", "ONNXProto", "CHDF5"], swiftSettings: kernelSettings),
        .target(name: "Models", dependencies: ["IR"], exclude: ["README.md"], swiftSettings: kernelSettings),
        .target(name: "Optimizer", dependencies: ["IR"], swiftSettings: kernelSettings),
        .target(name: "Runtime", dependencies: ["IR"], exclude: ["README.md"], swiftSettings: kernelSettings),
        .target(name: "Verify", dependencies: ["IR", "Optimizer", "Runtime"], swiftSettings: kernelSettings),
        .target(name: "Imaging", dependencies: ["IR", "CJPEG", "CPNG", "CImageShim"], swiftSettings: kernelSettings),
        .executableTarget(
            name: "effnet",
            dependencies: [
                "IR", "Formats", "Models", "Optimizer", "Runtime", "Verify", "Imaging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: kernelSettings),
        // Microbenchmarks of the runtime's kernels (GFLOP/s, synthetic block stacks); not part of the CLI.
        .executableTarget(
            name: "effnet-kernel-bench", dependencies: ["Runtime", "IR"], path: "Sources/KernelBench",
            swiftSettings: kernelSettings),

        .testTarget(name: "IRTests", dependencies: ["IR"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "IR"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Formats", "IR", "Runtime"]),
        .testTarget(name: "OptimizerTests", dependencies: ["Optimizer", "Formats", "Runtime", "IR"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "Formats", "Optimizer", "IR"], swiftSettings: kernelSettings),
        .testTarget(name: "VerifyTests", dependencies: ["Verify", "Formats", "IR"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "IR"]),
        .testTarget(name: "CLITests", dependencies: ["IR", "Formats"]),
    ]
)
