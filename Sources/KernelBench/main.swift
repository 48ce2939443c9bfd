// effnet-kernel-bench: GFLOP/s of the runtime's GEMM on EfficientNetV2-S-shaped convolutions, depthwise
// bandwidth, and (with `stack`) a synthetic V2-S block stack through InferenceSession.
//
// Usage: effnet-kernel-bench [microkernel|gemm|depthwise|stack|preprocess|wino|wino-choice|all] [--threads N] [--runs N]
// [--cpu-time] [--cold] [--match S] [--relu6]
// `EFFNET_ISA` picks the kernel family as for effnet; `microkernel` measures every family this CPU supports.
// Reports the minimum over runs: the machine may be shared, and the minimum is the least disturbed sample.
// `preprocess` times decode + resize + crop + normalize of a 1600x1200 JPEG (not part of `all`).
import Foundation
import IR
import Imaging
import Runtime

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// CPU time of the whole process: unlike wall time it does not count the slices other processes run in while this
/// one is preempted, so on a shared machine it is the fairer per-inference cost at one thread.
func cpuNow() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// The minimum over `runs` of the body's wall time, or with `--cpu-time` of the process's CPU time (at one thread,
/// the time the body ran, without the slices other processes took on a loaded machine).
func minTime(runs: Int, _ body: () -> Void) -> Double {
    let clock = CommandLine.arguments.contains("--cpu-time") ? cpuNow : now
    let cold = CommandLine.arguments.contains("--cold")
    body()
    var best = Double.infinity
    for _ in 0..<runs {
        if cold { evictL2() }
        let t0 = clock()
        body()
        best = min(best, clock() - t0)
    }
    return best
}

/// 8 MB written and read between timed runs with `--cold`: the operands leave L2 (1–2 MB a core) but stay in L3,
/// as a network's weights are when a layer starts.
nonisolated(unsafe) let evictionBuffer = UnsafeMutablePointer<Float>.allocate(capacity: 2 << 20)
nonisolated(unsafe) var evictionSink: Float = 0
func evictL2() {
    var s: Float = 0
    for i in stride(from: 0, to: 2 << 20, by: 16) {
        evictionBuffer[i] = Float(i)
        s += evictionBuffer[i]
    }
    evictionSink += s
}

nonisolated(unsafe) var benchRNG = UInt64(0x1234_5678)
/// Uniform in [-scale, scale] from a xorshift generator: SystemRandomNumberGenerator is one getrandom syscall a
/// call, which made building the synthetic networks take seconds of system time.
func randomFloats(_ n: Int, scale: Float = 1) -> [Float] {
    (0..<n).map { _ in
        benchRNG ^= benchRNG << 13
        benchRNG ^= benchRNG >> 7
        benchRNG ^= benchRNG << 17
        return (Float(benchRNG >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
}

let args = CommandLine.arguments.dropFirst()
let mode =
    args.enumerated().first(where: { i, a in
        !a.hasPrefix("-") && Int(a) == nil && (i == 0 || args[args.index(args.startIndex, offsetBy: i - 1)] != "--match")
    })?.element ?? "all"
func option(_ name: String, _ fallback: Int) -> Int {
    if let i = args.firstIndex(of: name), args.index(after: i) < args.endIndex, let v = Int(args[args.index(after: i)])
    {
        return v
    }
    return fallback
}
let runs = option("--runs", 20)
let benchNetworkActivation = args.contains("--relu-net") ? "relu" : "silu"
let benchActivation = args.contains("--linear") ? KernelActivation.none : .silu
let threadCounts = args.contains("--threads") ? [option("--threads", 1)] : [1, 2]

struct ConvCase {
    var name: String
    var h: Int, w: Int, cin: Int, cout: Int, k: Int, stride: Int
}

let convCases = [
    ConvCase(name: "B0 stage1 3x3 s2 112->56, 16->64", h: 112, w: 112, cin: 16, cout: 64, k: 3, stride: 2),
    ConvCase(name: "B0 stage1 project 1x1 56^2, 64->32", h: 56, w: 56, cin: 64, cout: 32, k: 1, stride: 1),
    ConvCase(name: "B0 stage1 fused 3x3 56^2, 32->128", h: 56, w: 56, cin: 32, cout: 128, k: 3, stride: 1),
    ConvCase(name: "B0 stage2 fused 3x3 28^2, 48->192", h: 28, w: 28, cin: 48, cout: 192, k: 3, stride: 1),
    ConvCase(name: "B0 stage2 3x3 s2 56->28, 32->128", h: 56, w: 56, cin: 32, cout: 128, k: 3, stride: 2),
    ConvCase(name: "B0 stage5 expand 1x1 14^2, 112->672", h: 14, w: 14, cin: 112, cout: 672, k: 1, stride: 1),
    ConvCase(name: "B0 stage5 project 1x1 14^2, 672->112", h: 14, w: 14, cin: 672, cout: 112, k: 1, stride: 1),
    ConvCase(name: "B0 stage6 expand 1x1 7^2, 192->1152", h: 7, w: 7, cin: 192, cout: 1152, k: 1, stride: 1),
    ConvCase(name: "B0 stage6 project 1x1 7^2, 1152->192", h: 7, w: 7, cin: 1152, cout: 192, k: 1, stride: 1),
    ConvCase(name: "stem 3x3 s2 384->192, 3->24", h: 384, w: 384, cin: 3, cout: 24, k: 3, stride: 2),
    ConvCase(name: "stage1 fused 3x3 192^2, 24->24", h: 192, w: 192, cin: 24, cout: 24, k: 3, stride: 1),
    ConvCase(name: "stage2 fused 3x3 s2 192->96, 24->96", h: 192, w: 192, cin: 24, cout: 96, k: 3, stride: 2),
    ConvCase(name: "stage2 fused 3x3 96^2, 48->192", h: 96, w: 96, cin: 48, cout: 192, k: 3, stride: 1),
    ConvCase(name: "brief: 3x3 48^2, 48->64 (K=432)", h: 48, w: 48, cin: 48, cout: 64, k: 3, stride: 1),
    ConvCase(name: "stage3 fused 3x3 48^2, 64->256", h: 48, w: 48, cin: 64, cout: 256, k: 3, stride: 1),
    ConvCase(name: "stage3 project 1x1 48^2, 256->64", h: 48, w: 48, cin: 256, cout: 64, k: 1, stride: 1),
    ConvCase(name: "stage5 expand 1x1 24^2, 160->960", h: 24, w: 24, cin: 160, cout: 960, k: 1, stride: 1),
    ConvCase(name: "stage5 project 1x1 24^2, 960->160", h: 24, w: 24, cin: 960, cout: 160, k: 1, stride: 1),
    ConvCase(name: "brief: 1x1 12^2, 960->256", h: 12, w: 12, cin: 960, cout: 256, k: 1, stride: 1),
    ConvCase(name: "stage6 expand 1x1 12^2, 256->1536", h: 12, w: 12, cin: 256, cout: 1536, k: 1, stride: 1),
    ConvCase(name: "stage6 project 1x1 12^2, 1536->256", h: 12, w: 12, cin: 1536, cout: 256, k: 1, stride: 1),
    ConvCase(name: "head 1x1 12^2, 256->1280", h: 12, w: 12, cin: 256, cout: 1280, k: 1, stride: 1),
    ConvCase(name: "lite0 stem 3x3 s2 224->112, 3->32", h: 224, w: 224, cin: 3, cout: 32, k: 3, stride: 2),
    ConvCase(name: "lite0 expand 1x1 112^2, 16->96", h: 112, w: 112, cin: 16, cout: 96, k: 1, stride: 1),
    ConvCase(name: "lite0 project 1x1 112^2, 32->16", h: 112, w: 112, cin: 32, cout: 16, k: 1, stride: 1),
    ConvCase(name: "lite0 expand 1x1 56^2, 24->144", h: 56, w: 56, cin: 24, cout: 144, k: 1, stride: 1),
    ConvCase(name: "lite0 project 1x1 56^2, 144->24", h: 56, w: 56, cin: 144, cout: 24, k: 1, stride: 1),
    ConvCase(name: "lite0 expand 1x1 28^2, 40->240", h: 28, w: 28, cin: 40, cout: 240, k: 1, stride: 1),
    ConvCase(name: "lite0 project 1x1 28^2, 240->40", h: 28, w: 28, cin: 240, cout: 40, k: 1, stride: 1),
    ConvCase(name: "lite0 project 1x1 7^2, 1152->320", h: 7, w: 7, cin: 1152, cout: 320, k: 1, stride: 1),
    ConvCase(name: "lite0 head 1x1 7^2, 320->1280", h: 7, w: 7, cin: 320, cout: 1280, k: 1, stride: 1),
]
/// `--match S`: only the cases whose name contains S.
let caseFilter: String? = args.firstIndex(of: "--match").flatMap { i in
    args.index(after: i) < args.endIndex ? args[args.index(after: i)] : nil
}

print("kernel family \(KernelFamily.active.rawValue) on \(KernelFamily.cpuModel)")
if mode == "microkernel" || mode == "all" {
    // Each supported family's micro-kernel from L1 (one row tile × two panels, K = 128), best of 0.5 s, against a
    // pure multiply-add loop on the family's vector (the core's peak), best of 0.5 s.
    for family in KernelFamily.supported {
        let peak = KernelProbe.fmaPeakGFLOPS(family: family, seconds: 0.5)
        let rate = KernelProbe.microkernelGFLOPS(family: family, seconds: 0.5)
        print(String(format: "microkernel %@ %d×%d: %.1f GFLOP/s; FMA peak %.1f GFLOP/s; %.0f%% of peak",
            family.rawValue, family.microRows, family.panelWidth(remaining: .max), rate, peak, 100 * rate / peak))
    }
}

if mode == "gemm" || mode == "all" {
    print("GEMM (dense conv through the micro-kernels), min of \(runs) runs, machine shared with other sessions:")
    for threads in threadCounts {
        let pool = WorkerPool(threads: threads)
        for c in convCases where caseFilter.map({ c.name.contains($0) }) ?? true {
            let pad = c.k / 2
            let g = NHWCConvGeometry(
                batch: 1, inHeight: c.h, inWidth: c.w, inChannels: c.cin, outChannels: c.cout, kernel: (c.k, c.k),
                stride: (c.stride, c.stride), pads: [pad, pad, pad, pad])
            let input = FloatBuffer(randomFloats(g.inPixels * c.cin))
            let output = FloatBuffer(count: g.outPixels * c.cout)
            let weights = PackedWeights(
                convWeights: randomFloats(c.cout * c.cin * c.k * c.k, scale: 0.1), shape: [c.cout, c.cin, c.k, c.k],
                bias: randomFloats(c.cout))
            let conv = DenseConv(geometry: g, weights: weights, input: input.pointer, inputStride: c.cin)
            let t = withExtendedLifetime(input) {
                minTime(runs: runs) {
                    conv.run(output: output.pointer, outputStride: c.cout, activation: benchActivation, pool: pool)
                }
            }
            let gflops = 2 * Double(g.macs) / t / 1e9
            print(
                String(
                    format: "  %d thr  %-40@ M=%6d K=%5d N=%5d  %8.3f ms  %6.1f GFLOP/s", threads, c.name as NSString,
                    g.outPixels, g.taps * c.cin, c.cout, t * 1e3, gflops))
            if WinogradConv.applies(to: g) {
                let planned = WinogradConv.variant(for: g).map { "\($0)" } ?? "direct"
                for variant in WinogradVariant.allCases {
                    let wino = WinogradConv(
                        geometry: g, weights: randomFloats(c.cout * c.cin * 9, scale: 0.1),
                        bias: randomFloats(c.cout), input: input.pointer, threads: threads, variant: variant)
                    let tw = withExtendedLifetime(input) {
                        minTime(runs: runs) {
                            wino.run(
                                output: output.pointer, outputStride: c.cout, activation: benchActivation, pool: pool)
                        }
                    }
                    print(
                        String(
                            format: "  %d thr  %-40@ Winograd %@ (planner: %@)  %8.3f ms  %6.1f effective GFLOP/s",
                            threads, "  same conv" as NSString, "\(variant)" as NSString, planned as NSString,
                            tw * 1e3, 2 * Double(g.macs) / tw / 1e9))
                }
            }
        }
    }
}

if mode == "depthwise" || mode == "all" {
    let lite = args.contains("--relu6")
    print("Depthwise + \(lite ? "ReLU6" : "SiLU + SE sums"), min of \(runs) runs:")
    for threads in threadCounts {
        let pool = WorkerPool(threads: threads)
        for (h, ch, k, s) in [
            (48, 256, 3, 2), (24, 512, 3, 1), (24, 960, 3, 1), (12, 1536, 3, 1), (12, 1536, 5, 1),
            // EfficientNet-B0 / Lite0 at 224.
            (112, 32, 3, 1), (112, 96, 3, 2), (56, 144, 3, 1), (56, 144, 5, 2), (28, 240, 5, 1), (28, 240, 3, 2),
            (14, 480, 3, 1), (14, 672, 5, 1), (14, 672, 5, 2), (7, 1152, 5, 1), (7, 1152, 3, 1),
        ] {
            let g = NHWCConvGeometry(
                batch: 1, inHeight: h, inWidth: h, inChannels: ch, outChannels: ch, kernel: (k, k), stride: (s, s),
                pads: [k / 2, k / 2, k / 2, k / 2])
            let input = FloatBuffer(randomFloats(g.inPixels * ch))
            let output = FloatBuffer(count: g.outPixels * ch)
            let w = DepthwiseWeights(weights: randomFloats(ch * k * k), shape: [ch, 1, k, k], bias: randomFloats(ch))
            let sums = FloatBuffer(count: w.paddedChannels)
            let scratch = FloatBuffer(count: w.paddedChannels * g.outHeight)
            let t = withExtendedLifetime(input) {
                minTime(runs: runs) {
                    // `--relu6`: Lite's depthwise (ReLU6, no SE).
                    Depthwise.run(
                        input: input.pointer, geometry: g, weights: w, output: output.pointer,
                        activation: lite ? .relu6 : .silu, seSums: lite ? nil : sums.pointer,
                        seScratch: lite ? nil : scratch.pointer, pool: pool)
                }
            }
            let bytes = Double((g.inPixels + g.outPixels) * ch * 4)
            print(
                String(
                    format: "  %d thr  %2dx%-2d C=%4d k=%d s=%d  %7.3f ms  %6.1f GB/s  %6.1f GFLOP/s", threads, h, h,
                    ch, k, s,
                    t * 1e3, bytes / t / 1e9, 2 * Double(g.outPixels * ch * k * k) / t / 1e9))
        }
    }
}

if mode == "stack" || mode == "all" {
    for (name, spec, size) in [
        ("EfficientNetV2-S", NetworkSpec.v2s, option("--size", 384)),
        ("EfficientNetV2-B0", NetworkSpec.v2b0, option("--b0-size", 224)),
    ] {
        let (graph, macs) = spec.graph()
        let total = macs(size)
        print(
            String(
                format: "%@ at %d (synthetic fused graph, random weights, %.2f GMAC), min of %d runs:", name, size,
                Double(total) / 1e9, runs))
        let input = Tensor(shape: [1, 3, size, size], floats: randomFloats(3 * size * size))
        for threads in threadCounts {
            let b0 = now()
            let session = try! InferenceSession(graph: graph, opset: 17, threads: threads)
            _ = try! session.run(["input": input])
            let arena = session.arenaBytes(for: ["input": [1, 3, size, size]]) ?? 0
            print(
                String(
                    format:
                        "  %d thr  init + first run (plan, packing, Winograd transforms, tables): %.0f ms; arena %.1f MB",
                    threads, (now() - b0) * 1e3, Double(arena) / 1e6))
            var times = [Double]()
            var cpu = [Double]()
            for _ in 0..<runs {
                let t0 = now()
                let c0 = cpuNow()
                _ = try! session.run(["input": input])
                times.append(now() - t0)
                cpu.append(cpuNow() - c0)
            }
            times.sort()
            cpu.sort()
            print(
                String(
                    format:
                        "  %d thr  wall min %7.2f ms  median %7.2f ms  %6.1f GFLOP/s (at min);  CPU time min %7.2f ms median %7.2f ms",
                    threads, times[0] * 1e3, times[times.count / 2] * 1e3, 2 * Double(total) / times[0] / 1e9,
                    cpu[0] * 1e3,
                    cpu[cpu.count / 2] * 1e3))
        }
    }
}

if mode == "profile" {
    let size = option("--size", 384)
    let spec = args.contains("--b0") ? NetworkSpec.v2b0 : NetworkSpec.v2s
    let (graph, _) = spec.graph()
    let input = Tensor(shape: [1, 3, size, size], floats: randomFloats(3 * size * size))
    for threads in threadCounts {
        let session = try! InferenceSession(graph: graph, opset: 17, threads: threads)
        let steps = try! session.profile(["input": input], runs: runs)
        let total = steps.reduce(0) { $0 + $1.seconds }
        print(String(format: "%d thr: sum of per-step minima %.2f ms", threads, total * 1e3))
        for s in steps {
            print(String(format: "  %8.3f ms  %-12@ %@", s.seconds * 1e3, s.op as NSString, s.label as NSString))
        }
    }
}

if mode == "wino" {
    // One Winograd layer in a loop, for `perf record`; `--tile 4` for F(4x4, 3x3).
    let (h, cin, cout) = (option("--h", 96), option("--cin", 48), option("--cout", 192))
    let variant = WinogradVariant(rawValue: option("--tile", 2)) ?? .f2x2
    let g = NHWCConvGeometry(
        batch: 1, inHeight: h, inWidth: h, inChannels: cin, outChannels: cout, kernel: (3, 3), pads: [1, 1, 1, 1])
    let input = FloatBuffer(randomFloats(g.inPixels * cin))
    let output = FloatBuffer(count: g.outPixels * cout)
    let wino = WinogradConv(
        geometry: g, weights: randomFloats(cout * cin * 9, scale: 0.1), bias: randomFloats(cout), input: input.pointer,
        threads: 1, variant: variant)
    let pool = WorkerPool(threads: 1)
    let t = withExtendedLifetime(input) {
        minTime(runs: runs) { wino.run(output: output.pointer, outputStride: cout, activation: .silu, pool: pool) }
    }
    print(String(format: "winograd %@ %d^2 %d->%d: %.3f ms", "\(variant)" as NSString, h, cin, cout, t * 1e3))
}

if mode == "wino-choice" {
    // Direct implicit GEMM against both Winograd variants on 3x3 stride-1 convolutions over a grid of output sizes
    // and channel counts: the measurements behind `WinogradConv.variant(for:)`.
    print("3x3 s1 conv: direct / F(2x2) / F(4x4), min of \(runs) runs, ms; planner's choice last")
    let shapes = [
        (7, 48, 192), (8, 64, 256), (12, 64, 256), (14, 48, 192), (14, 32, 128), (16, 32, 32), (28, 48, 192),
        (28, 16, 16), (56, 32, 128), (56, 16, 16), (112, 32, 16), (112, 16, 16), (112, 24, 24), (192, 24, 24),
        (96, 48, 192), (48, 64, 256), (64, 8, 8), (64, 12, 12),
    ]
    for threads in threadCounts {
        let pool = WorkerPool(threads: threads)
        for (h, cin, cout) in shapes {
            let g = NHWCConvGeometry(
                batch: 1, inHeight: h, inWidth: h, inChannels: cin, outChannels: cout, kernel: (3, 3),
                pads: [1, 1, 1, 1])
            let input = FloatBuffer(randomFloats(g.inPixels * cin))
            let output = FloatBuffer(count: g.outPixels * cout)
            let w = randomFloats(cout * cin * 9, scale: 0.1)
            let b = randomFloats(cout)
            let direct = DenseConv(
                geometry: g, weights: PackedWeights(convWeights: w, shape: [cout, cin, 3, 3], bias: b),
                input: input.pointer, inputStride: cin)
            var times = [
                withExtendedLifetime(input) {
                    minTime(runs: runs) {
                        direct.run(output: output.pointer, outputStride: cout, activation: .silu, pool: pool)
                    }
                }
            ]
            for variant in WinogradVariant.allCases {
                let wino = WinogradConv(
                    geometry: g, weights: w, bias: b, input: input.pointer, threads: threads, variant: variant)
                times.append(
                    withExtendedLifetime(input) {
                        minTime(runs: runs) {
                            wino.run(output: output.pointer, outputStride: cout, activation: .silu, pool: pool)
                        }
                    })
            }
            let planned = WinogradConv.variant(for: g).map { "\($0)" } ?? "direct"
            print(
                String(
                    format: "  %d thr  %3d^2 %3d->%3d  %8.3f %8.3f %8.3f  %@", threads, h, cin, cout, times[0] * 1e3,
                    times[1] * 1e3, times[2] * 1e3, planned as NSString))
        }
    }
}

if mode == "se" {
    // Cost of the two places the SE scale can be applied, per image (1 thread).
    print("SE scale sites, min of \(runs) runs (per image):")
    for (pixels, k, n) in [(576, 512, 128), (576, 960, 160), (144, 1536, 256), (196, 672, 112), (49, 1152, 192)] {
        let weights = PackedWeights(matrix: randomFloats(k * n), k: k, n: n, transposed: false, bias: nil)
        let scaled = FloatBuffer(count: weights.data.count)
        let scale = FloatBuffer(randomFloats(k))
        let rows = FloatBuffer(randomFloats(pixels * k))
        let tw = minTime(runs: runs) { SqueezeExcite.scalePacked(weights, scale: scale.pointer, into: scaled.pointer) }
        let ta = minTime(runs: runs) {
            SqueezeExcite.scaleRows(rows.pointer, pixels: 0..<pixels, channels: k, scale: scale.pointer)
        }
        print(
            String(
                format: "  %4d px, K=%4d, N=%4d: weights %6.1f us, activations %6.1f us -> %@", pixels, k, n, tw * 1e6,
                ta * 1e6,
                (SqueezeExcite.site(pixels: pixels, outputs: n) == .weights ? "weights" : "activations") as NSString))
    }
}

if mode == "preprocess" {
    // Decode + resize + crop + normalize of fixtures/images/hopper_large.jpg (1600x1200, 1.9 MP) at 384, the minimum
    // of --runs runs (default 7). Bound: 50 ms in a release build on the machines this was written on (exit 1
    // above it; the bound means nothing in a debug build, which is refused).
    #if DEBUG
        print("preprocess: build with -c release; debug timings mean nothing")
        exit(2)
    #else
        let photo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../fixtures/images/hopper_large.jpg").standardized.path
        let bytes = [UInt8](FileManager.default.contents(atPath: photo) ?? Data())
        let count = option("--runs", 7)
        var slow = false
        for preset in ["timm", "torchvision"] {
            let p = try! Preprocessing.preset(name: preset, size: 384)
            var image = try! RGBImage(decoding: bytes)
            let decode = minTime(runs: count) { image = try! RGBImage(decoding: bytes) }
            let prepare = minTime(runs: count) { _ = p.tensor(from: [image]) }
            let total = minTime(runs: count) { _ = p.tensor(from: [try! RGBImage(decoding: bytes)]) }
            print(
                String(
                    format: "[%@ 384] 1600x1200 JPEG: decode %.1f ms, resize+crop+normalize %.1f ms, total %.1f ms%@",
                    preset as NSString, decode * 1e3, prepare * 1e3, total * 1e3, total > 0.05 ? " (over 50 ms)" : ""))
            slow = slow || total > 0.05
        }
        if slow { exit(1) }
    #endif
}
