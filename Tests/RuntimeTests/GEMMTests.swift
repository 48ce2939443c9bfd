import Foundation
import Testing

@testable import Runtime

/// C = act(A·B + bias) + R in float64: the scalar reference of the GEMM driver.
func referenceGEMM(
    a: [Float], m: Int, k: Int, b: [Float], n: Int, bias: [Float], activation: KernelActivation, residual: [Float]?
) -> (values: [Double], scale: [Double]) {
    var out = [Double](repeating: 0, count: m * n)
    var scale = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = Double(bias[j])
            var mag = abs(Double(bias[j]))
            for p in 0..<k {
                let prod = Double(a[i * k + p]) * Double(b[p * n + j])
                s += prod
                mag += abs(prod)
            }
            var y = Double(activation.reference(Float(s)))
            if activation == .sigmoid || activation == .silu {
                y = activation == .sigmoid ? 1 / (1 + exp(-s)) : s / (1 + exp(-s))
            }
            if let residual { y += Double(residual[i * n + j]) }
            out[i * n + j] = y
            scale[i * n + j] = mag + abs(y)
        }
    }
    return (out, scale)
}

@Suite struct GEMMTests {
    /// Direct rows at awkward M, N, K (K past one K block too). Tolerance: 1e-5 absolute + 2e-5 relative to
    /// Σ|a·b| + |bias| + |y| — float32 accumulation of K products drifts by ~K·2^-24 of that sum in the worst
    /// order; K ≤ 1100 keeps it below 7e-5, usually far less. (301, 40, 333) has enough rows of A (over 384 KB)
    /// for the driver's tile-by-tile order; the others run panel by panel (49 × 700: two K blocks).
    @Test(arguments: [
        (1, 1, 1), (3, 17, 15), (8, 32, 16), (15, 33, 17), (16, 16, 3), (17, 48, 33), (33, 24, 600),
        (9, 65, 1100), (2, 1000, 1280), (1, 1000, 64), (1, 56, 70), (12, 56, 7), (301, 40, 333), (49, 72, 700),
    ])
    func directMatchesReference(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        for activation in [KernelActivation.none, .silu, .relu6] {
            for withResidual in [false, true] {
                var rng = SeededGenerator(seed: UInt64(m * 1000 + n * 10 + k))
                let a = rng.floats(m * k)
                let b = rng.floats(k * n)
                let bias = rng.floats(n)
                let residual = withResidual ? rng.floats(m * n) : nil
                let weights = PackedWeights(matrix: b, k: k, n: n, transposed: false, bias: bias)
                let aBuf = buffer(a)
                let cBuf = FloatBuffer(count: m * n)
                let rBuf = residual.map(buffer)
                GEMM.run(
                    GEMM.Problem(
                        rows: .direct(base: aBuf.pointer, stride: k), m: m, weights: weights, c: cBuf.pointer, ldc: n,
                        activation: activation, residual: rBuf.map { UnsafePointer($0.pointer) }, ldr: n),
                    pool: nil)
                let ref = referenceGEMM(
                    a: a, m: m, k: k, b: b, n: n, bias: bias, activation: activation, residual: residual)
                let ratio = worstRatio(cBuf.array, ref.values, scale: ref.scale, atol: 1e-5, rtol: 2e-5)
                #expect(ratio <= 1, "m=\(m) n=\(n) k=\(k) \(activation) residual=\(withResidual): \(ratio)")
                #expect(cBuf.pointer[m * n] == 0)  // guard past the end
            }
        }
    }

    /// The same problems split over threads (by row tiles and by panels) give bit-identical results: each
    /// element is computed by one thread in the same order.
    @Test(arguments: [(3, 1000, 64), (40, 96, 100), (200, 24, 27), (301, 40, 333)])
    func threadsDoNotChangeResults(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SeededGenerator(seed: 99)
        let a = buffer(rng.floats(m * k))
        let b = rng.floats(k * n)
        let bias = rng.floats(n)
        let weights = PackedWeights(matrix: b, k: k, n: n, transposed: true, bias: bias)
        var results = [[Float]]()
        for threads in [1, 2, 3] {
            let pool = WorkerPool(threads: threads)
            let c = FloatBuffer(count: m * n)
            GEMM.run(
                GEMM.Problem(
                    rows: .direct(base: a.pointer, stride: k), m: m, weights: weights, c: c.pointer, ldc: n,
                    activation: .silu),
                pool: pool)
            results.append(c.array)
        }
        #expect(results[0] == results[1] && results[0] == results[2])
    }

    /// Indirect rows: each (row, tap) points at an arbitrary source row or at a zero row, K = taps × channels.
    @Test(arguments: [(1, 1, 1, 5), (17, 33, 9, 3), (33, 16, 9, 24), (9, 48, 4, 300), (5, 20, 2, 700)])
    func indirectMatchesReference(_ shape: (Int, Int, Int, Int)) {
        let (m, n, taps, channels) = shape
        var rng = SeededGenerator(seed: UInt64(m + n + taps + channels))
        let sourceRows = 7
        let source = rng.floats(sourceRows * channels)
        let sourceBuf = buffer(source)
        let zero = FloatBuffer(count: channels)
        var picks = [Int]()  // -1 = zero row
        for _ in 0..<(m * taps) { picks.append(Int.random(in: -1..<sourceRows, using: &rng)) }
        let table = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: m * taps)
        defer { table.deallocate() }
        for (i, pick) in picks.enumerated() {
            table[i] = pick < 0 ? UnsafePointer(zero.pointer) : UnsafePointer(sourceBuf.pointer + pick * channels)
        }
        let k = taps * channels
        let b = rng.floats(k * n)
        let bias = rng.floats(n)
        var a = [Float](repeating: 0, count: m * k)
        for i in 0..<m {
            for t in 0..<taps where picks[i * taps + t] >= 0 {
                for c in 0..<channels { a[i * k + t * channels + c] = source[picks[i * taps + t] * channels + c] }
            }
        }
        let weights = PackedWeights(outputs: n, taps: taps, inputChannels: channels, bias: bias) { j, t, c in
            b[(t * channels + c) * n + j]
        }
        let cBuf = FloatBuffer(count: m * n)
        GEMM.run(
            GEMM.Problem(
                rows: .indirect(table: UnsafePointer(table)), m: m, weights: weights, c: cBuf.pointer, ldc: n,
                activation: .hardswish),
            pool: WorkerPool(threads: 2))
        let ref = referenceGEMM(a: a, m: m, k: k, b: b, n: n, bias: bias, activation: .hardswish, residual: nil)
        #expect(worstRatio(cBuf.array, ref.values, scale: ref.scale, atol: 1e-5, rtol: 2e-5) <= 1)
    }
}
