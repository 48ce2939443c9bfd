// swift-tools-version: 6.0
import PackageDescription

/// Only the kernel targets get CPU flags and `-Ounchecked`: each instruction-set family compiles the same kernel
/// templates (`Sources/KernelTemplate`, symlinked into each family) for its CPU, and the runtime picks one family at
/// start from what the CPU reports (`KernelFamily`, `EFFNET_ISA`). Every other module builds with default, checked
/// settings, and one binary runs on every x86-64 CPU. (Without a CPU flag `addingProduct` is a call to `fmaf`.)
/// `haswell` is x86-64-v3 (AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE) and `skylake-avx512` adds AVX-512 F/CD/BW/DQ/VL:
/// the clang importer of Swift 6.3 does not accept the `x86-64-v3`/`-v4` names.
func kernelSettings(_ cpu: String?) -> [SwiftSetting] {
    [
        .unsafeFlags(cpu.map { ["-target-cpu", $0] } ?? []),
        .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
    ]
}

/// The kernel families compiled on this host: x86-64 gets AVX-512, AVX2 and the baseline (scalar) build; arm64 gets
/// NEON (baseline on arm64) and the scalar build.
#if arch(arm64)
    let kernelFamilies: [(name: String, cpu: String?)] = [("KernelsNEON", nil), ("KernelsScalar", nil)]
#else
    let kernelFamilies: [(name: String, cpu: String?)] = [
        ("KernelsAVX512", "skylake-avx512"), ("KernelsAVX2", "haswell"), ("KernelsScalar", nil),
    ]
#endif
/// The scalar family defines `EFFNET_NO_FMA`: baseline x86-64 has no FMA, so its kernels multiply then add instead
/// of calling `fmaf` per lane.
let kernelTargets: [Target] = kernelFamilies.map {
    .target(
        name: $0.name, dependencies: ["KernelCore"],
        swiftSettings: kernelSettings($0.cpu) + ($0.name == "KernelsScalar" ? [.define("EFFNET_NO_FMA")] : []))
}
let kernelDependencies: [Target.Dependency] = kernelFamilies.map { .target(name: $0.name) }

let package = Package(
    name: "effnet",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "effnet", targets: ["EffnetCLI"]),
        // The embedding API (README, "Using effnet from Swift"): open any model file and classify images.
        .library(name: "Effnet", targets: ["Effnet"]),
        // The runtime alone: read an ONNX graph, optimize and plan it, run tensors.
        .library(name: "EffnetRuntime", targets: ["EffnetRuntime"]),
        // A benchmark tool: tools/peer_runner.py loads it to show the peer runtimes an AVX2-only CPU.
        .library(name: "EffnetCPUIDMask", type: .dynamic, targets: ["CPUIDMask"]),
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
        // setjmp targets for libjpeg/libpng fatal errors (Swift cannot longjmp); used only by Imaging.
        .target(name: "CImageShim", dependencies: ["CJPEG", "CPNG"], path: "Sources/CShims/CImageShim"),
        .target(
            name: "ONNXProto", dependencies: ["CProtobufC"], path: "Sources/CShims/ONNXProto", exclude: ["onnx.proto"]),

        // Swift modules, bottom to top (DEVELOPERS.md).
        .target(name: "CCPUFeatures", path: "Sources/CShims/CCPUFeatures"),
        // The operator facts the IR and the kernels share (activations, convolution arithmetic): no dependencies.
        .target(name: "OpCore"),
        // Kernel types shared by every family (packed weights, buffers, the family table): default settings.
        .target(name: "KernelCore", dependencies: ["CCPUFeatures", "OpCore"]),
        .target(name: "IR", dependencies: ["OpCore"]),
        .target(name: "Formats", dependencies: ["IR", "CZlib", "ONNXProto"]),
        .target(name: "Models", dependencies: ["IR"], exclude: ["README.md"]),
        .target(name: "Optimizer", dependencies: ["IR"]),
        .target(name: "Runtime", dependencies: ["IR", "KernelCore"] + kernelDependencies, exclude: ["README.md"]),
        .target(name: "Verify", dependencies: ["IR", "Optimizer", "Runtime"]),
        .target(name: "Imaging", dependencies: ["IR", "CJPEG", "CPNG", "CImageShim"]),
        .target(name: "EffnetRuntime", dependencies: ["IR", "Formats", "Optimizer", "Runtime"]),
        .target(
            name: "Effnet",
            dependencies: ["EffnetRuntime", "IR", "Formats", "Models", "Optimizer", "Runtime", "Verify", "Imaging"]),
        // The `effnet` command: flags and output formats over the Effnet library (one file per verb).
        .executableTarget(
            name: "EffnetCLI",
            dependencies: [
                "Effnet", "IR", "Formats", "Runtime", "Imaging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Microbenchmarks of the runtime's kernels (GFLOP/s, synthetic block stacks); not part of the CLI.
        .executableTarget(
            name: "effnet-kernel-bench", dependencies: ["Runtime", "KernelCore", "IR", "Imaging"],
            path: "Sources/KernelBench"),
        // Makes a process see an AVX2-only CPU (CPUID faulting), for the peer benchmark's AVX2 columns.
        .target(name: "CPUIDMask", dependencies: ["CCPUFeatures"]),

    ] + kernelTargets + [
        .testTarget(name: "IRTests", dependencies: ["IR"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "IR"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Formats", "IR", "Runtime", "Optimizer"]),
        .testTarget(name: "OptimizerTests", dependencies: ["Optimizer", "Formats", "Runtime", "IR"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "KernelCore", "Formats", "Optimizer", "IR"]),
        .testTarget(name: "VerifyTests", dependencies: ["Verify", "Formats", "IR"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "IR"]),
        .testTarget(name: "CLITests", dependencies: ["IR", "Formats"]),
    ]
)

/// Test code is compiled without optimization in release builds too: the test command builds once, in release with
/// testable imports (`swift build -c release -Xswiftc -enable-testing --build-tests`), so the suites run against the
/// optimized libraries and binary users get, and optimizing the test targets themselves would only cost build time
/// (about 170 CPU-seconds, more than they save at run time).
for target in package.targets where target.type == .test {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-Onone"], .when(configuration: .release))]
}
