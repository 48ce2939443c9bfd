import KernelCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A quick measurement of a family's GEMM micro-kernel from L1: one full row tile against two panels, K = 128
/// (A 4 KB, B ≤ 32 KB), plain sums, repeated for about `seconds`; the best of several rounds.
package enum KernelProbe {
    /// GFLOP/s (2 per multiply-add) of `family`'s micro-kernel on the calling thread.
    package static func microkernelGFLOPS(family: KernelFamily = .active, seconds: Double = 0.05) -> Double {
        let kernels = KernelDispatch.table(for: family)
        let k = 128
        let m = family.microRows
        let n = 2 * family.panelWidth(remaining: .max)
        var state: UInt32 = 12345
        func next() -> Float {
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 9) / Float(1 << 23) - 0.5
        }
        let weights = PackedWeights(outputs: n, taps: 1, inputChannels: k, bias: nil, family: family) { _, _, _ in
            next() * 0.01
        }
        let a = FloatBuffer(count: m * k)
        for i in 0..<(m * k) { a.pointer[i] = next() }
        let c = FloatBuffer(count: m * n)
        var p = GEMMProblem(
            rows: .direct(base: a.pointer, stride: k), m: m, weights: weights, c: c.pointer, ldc: n)
        p.raw = true
        let panels = weights.panels.count
        let flopsPerCall = Double(2 * m * n * k)
        // Rounds of `calls` calls, doubled until a round takes a tenth of the budget (debug builds are ~1000×
        // slower than release); the best round's rate.
        var calls = 1
        var best = 0.0
        let start = monotonicSeconds()
        while true {
            let t0 = monotonicSeconds()
            for _ in 0..<calls { kernels.gemm(p, 0..<1, 0..<panels) }
            let dt = monotonicSeconds() - t0
            if dt > 0 { best = max(best, flopsPerCall * Double(calls) / dt / 1e9) }
            if monotonicSeconds() - start >= seconds { break }
            if dt < seconds / 10 { calls *= 2 }
        }
        return best
    }

    /// GFLOP/s (2 per multiply-add) of a pure multiply-add loop on `family`'s vector (`fmaPeakLoop`: independent
    /// chains in registers, no loads): the core's arithmetic peak that the micro-kernel is measured against. Best
    /// round over about `seconds`.
    package static func fmaPeakGFLOPS(family: KernelFamily = .active, seconds: Double = 0.05) -> Double {
        let kernels = KernelDispatch.table(for: family)
        var iterations = 1024
        var best = 0.0
        var sink: Float = 0
        let start = monotonicSeconds()
        while true {
            let t0 = monotonicSeconds()
            sink += kernels.fmaPeak(iterations, 1)
            let dt = monotonicSeconds() - t0
            if dt > 0 { best = max(best, 2 * Double(kernels.peakMultiplyAdds * iterations) / dt / 1e9) }
            if monotonicSeconds() - start >= seconds { break }
            if dt < seconds / 10 { iterations *= 2 }
        }
        precondition(sink.isFinite, "FMA peak loop overflowed")
        return best
    }

    static func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
