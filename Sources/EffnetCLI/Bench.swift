import ArgumentParser
import Effnet
import Foundation
import IR
import Runtime

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time inference of a model on the native runtime.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var passes: PassOptions

    @Option(help: "Worker threads (default: the available cores).")
    var threads: Int?

    @Option(help: "Untimed inferences before timing.")
    var warmup = 3

    @Option(help: "Timed inferences.")
    var iterations = 20

    @Option(help: "Batch size.")
    var batch = 1

    @Option(help: "Input size S for models without a fixed one.")
    var size: Int?

    @Flag(help: "Print one JSON document.")
    var json = false

    @Flag(help: "Also time each step of the plan alone (minimum over --iterations runs) and print where time goes.")
    var profile = false

    func validate() throws {
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        if let threads, !(1...CLILimits.maxThreads).contains(threads) { throw ValidationError(CLILimits.threadsMessage) }
    }

    func run() throws {
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let executable = try model.executable(passes: passes, size: size, threads: threadCount)
        let shape =
            executable.channelsLast
            ? [batch, executable.size, executable.size, 3] : [batch, 3, executable.size, executable.size]
        try MemoryBudget.check(
            shape: shape, elementSize: 8, for: "--batch \(batch) input \(shape.map(String.init).joined(separator: "x"))")
        // Deterministic pseudo-random input in [-1, 1): timing does not depend on values, but NaN-free data keeps
        // the kernels on their normal paths.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
        let feeds = [executable.inputName: Tensor(shape: shape, floats: values)]
        // The kernel family's micro-kernel from L1, ~50 ms: what this CPU gives the GEMM at best.
        let microkernel = KernelProbe.microkernelGFLOPS(seconds: 0.05)
        for _ in 0..<warmup { _ = try executable.session.run(feeds) }
        var times = [Double]()
        var cpuTimes = [Double]()
        for _ in 0..<iterations {
            let cpu = Self.processCPUMilliseconds()
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try executable.session.run(feeds)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            cpuTimes.append(Self.processCPUMilliseconds() - cpu)
        }
        times.sort()
        cpuTimes.sort()
        let result = BenchResult(
            model: model.model, threads: threadCount, batch: batch, size: executable.size, iterations: iterations,
            medianMs: Self.quantile(times, 0.5), p90Ms: Self.quantile(times, 0.9), minMs: times[0],
            cpuMedianMs: Self.quantile(cpuTimes, 0.5), cpuMinMs: cpuTimes[0],
            peakRssMb: Self.peakResidentMegabytes(), kernelFamily: KernelFamily.active.rawValue,
            microkernelGflops: (microkernel * 1000).rounded() / 1000, cpu: KernelFamily.cpuModel,
            profile: profile ? try BenchProfile(executable.session.profile(feeds, runs: iterations), runs: iterations) : nil)
        if json {
            try JSONOutput.print(result)
        } else {
            print(
                "\(model.model): batch \(batch), \(executable.size)x\(executable.size), \(threadCount) threads, \(iterations) iterations"
            )
            print(
                String(
                    format: "median %.2f ms, p90 %.2f ms, min %.2f ms, peak RSS %.1f MB",
                    result.medianMs, result.p90Ms, result.minMs, result.peakRssMb))
            print(String(format: "CPU time per inference: median %.2f ms, min %.2f ms", result.cpuMedianMs, result.cpuMinMs))
            print(
                String(
                    format: "kernels %@ (micro-kernel %.1f GFLOP/s) on %@", result.kernelFamily,
                    result.microkernelGflops, result.cpu))
            if let p = result.profile { print(p.text, terminator: "") }
        }
    }

    /// Linear-interpolated quantile of sorted values (numpy's default method).
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lo = Int(position.rounded(.down))
        let hi = Int(position.rounded(.up))
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - Double(lo))
    }

    /// CPU time the process has used (all its threads), in ms.
    static func processCPUMilliseconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) * 1e-6
    }

    /// The process's peak resident set size (VmHWM in /proc/self/status), in MB (10⁶ bytes).
    static func peakResidentMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb * 1024 / 1e6
        }
        return 0
    }
}

/// `bench --json` (the README's contract): model, threads, iterations, median_ms, p90_ms, min_ms, peak_rss_mb; plus the kernel
/// family in use (`kernel_family`), its micro-kernel's measured rate (`microkernel_gflops`) and the CPU (`cpu`).
struct BenchResult: Encodable {
    var model: String
    var threads: Int
    var batch: Int
    var size: Int
    var iterations: Int
    var medianMs: Double
    var p90Ms: Double
    var minMs: Double
    /// CPU time of the process per inference (all threads: at one thread the inference's own time, free of the
    /// slices other processes take; with more, also the time workers spend waiting for work).
    var cpuMedianMs: Double
    var cpuMinMs: Double
    var peakRssMb: Double
    var kernelFamily: String
    var microkernelGflops: Double
    var cpu: String
    /// With `--profile`: each step's minimum time.
    var profile: BenchProfile?

    enum CodingKeys: String, CodingKey {
        case model, threads, batch, size, iterations
        case medianMs = "median_ms"
        case p90Ms = "p90_ms"
        case minMs = "min_ms"
        case cpuMedianMs = "cpu_median_ms"
        case cpuMinMs = "cpu_min_ms"
        case peakRssMb = "peak_rss_mb"
        case kernelFamily = "kernel_family"
        case microkernelGflops = "microkernel_gflops"
        case cpu, profile
    }
}

/// `bench --profile`: each step of the plan timed alone, its minimum over `runs` inferences (a lower bound that
/// filters out preemption; the sum is a little below a whole inference's minimum), and the totals per op type.
struct BenchProfile: Encodable {
    struct Step: Encodable {
        var index: Int
        var label: String
        var op: String
        var shape: [Int]
        var ms: Double
    }
    struct OpTotal: Encodable {
        var op: String
        var steps: Int
        var ms: Double
    }
    var runs: Int
    var sumMs: Double
    var steps: [Step]
    /// Per op type, largest first.
    var ops: [OpTotal]

    enum CodingKeys: String, CodingKey {
        case runs, steps, ops
        case sumMs = "sum_ms"
    }

    init(_ profile: [StepProfile], runs: Int) {
        self.runs = runs
        steps = profile.enumerated().map { i, s in
            Step(index: i + 1, label: s.label, op: s.op, shape: s.shape, ms: (s.seconds * 1e6).rounded() / 1e3)
        }
        sumMs = (profile.reduce(0) { $0 + $1.seconds } * 1e6).rounded() / 1e3
        var totals = [String: OpTotal]()
        for s in steps { totals[s.op, default: OpTotal(op: s.op, steps: 0, ms: 0)].steps += 1 }
        for s in profile { totals[s.op]!.ms += s.seconds * 1e3 }
        ops = totals.values.map { OpTotal(op: $0.op, steps: $0.steps, ms: ($0.ms * 1e3).rounded() / 1e3) }
            .sorted { ($0.ms, $1.op) > ($1.ms, $0.op) }
    }

    /// The text form: one line per step in plan order, then one per op type.
    var text: String {
        let share = { (ms: Double) in sumMs > 0 ? 100 * ms / sumMs : 0 }
        let opWidth = max(2, (steps.map(\.op.count).max() ?? 0))
        let shapes = steps.map { $0.shape.map(String.init).joined(separator: "x") }
        let shapeWidth = max(6, shapes.map(\.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        var out = String(format: "profile: each step's minimum over %d runs, sum %.3f ms\n", runs, sumMs)
        out += "   step         ms   share  \(pad("op", opWidth))  \(pad("output", shapeWidth))  name\n"
        for (s, shape) in zip(steps, shapes) {
            out += String(format: "  %5d  %9.3f  %5.1f%%  ", s.index, s.ms, share(s.ms))
            out += "\(pad(s.op, opWidth))  \(pad(shape, shapeWidth))  \(s.label)\n"
        }
        out += "by op:\n"
        for o in ops {
            out += "  \(pad(o.op, opWidth))"
            out += String(format: "  %9.3f ms  %5.1f%%  %d ", o.ms, share(o.ms), o.steps)
            out += o.steps == 1 ? "step\n" : "steps\n"
        }
        return out
    }
}
