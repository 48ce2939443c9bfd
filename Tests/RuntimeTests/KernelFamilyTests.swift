import Foundation
import Testing

@testable import Runtime

/// Every kernel family this CPU supports (`KernelFamily.supported`), run side by side in one process against the
/// float64 scalar references, at awkward sizes around each family's tile and panel widths. (`tools/test.sh` also
/// runs the kernel and session suites with each family forced through `EFFNET_ISA`.)
@Suite struct KernelFamilyTests {
    static let families = KernelFamily.supported

    @Test func tableMatchesFamily() {
        for family in Self.families {
            let table = KernelDispatch.table(for: family)
            #expect(table.family == family)
            #expect(table.microRows == family.microRows)
        }
        #expect(KernelFamily.supported.last == .scalar)
        #expect(KernelDispatch.table.family == KernelFamily.active)
    }

    @Test func selectionFollowsEFFNET_ISA() throws {
        let both: [KernelFamily] = [.avx2, .scalar]
        #expect(try KernelFamily.select(environment: nil, supported: both).get() == .avx2)
        #expect(try KernelFamily.select(environment: "", supported: both).get() == .avx2)
        #expect(try KernelFamily.select(environment: "SCALAR", supported: both).get() == .scalar)
        guard case .failure(let unsupported) = KernelFamily.select(environment: "avx512", supported: both) else {
            Issue.record("avx512 accepted without support")
            return
        }
        #expect(unsupported.message.contains("does not support avx512"))
        #expect(unsupported.message.contains("avx2, scalar"))
        guard case .failure(let unknown) = KernelFamily.select(environment: "sse9", supported: both) else {
            Issue.record("unknown family accepted")
            return
        }
        #expect(unknown.message.hasPrefix("EFFNET_ISA=sse9: unknown kernel family"))
        #expect(!unknown.message.contains("\n"))
    }

    /// Panel widths: AVX-512 32/24/16, AVX2 and NEON 16/8, scalar 8, zero-padded past `outputs`.
    @Test func panelsFollowFamily() {
        for family in KernelFamily.allCases {
            let w = PackedWeights(outputs: 41, taps: 1, inputChannels: 3, bias: nil, family: family) { n, _, c in
                Float(n * 10 + c)
            }
            let widths = w.panels.map(\.width)
            let want = family == .avx512 ? [32, 16] : family == .scalar ? [8, 8, 8, 8, 8, 8] : [16, 16, 16]
            #expect(widths == want, "\(family)")
            #expect(w.panels.map(\.valid).reduce(0, +) == 41)
            let last = w.panels.last!
            #expect(w.data.pointer[last.offset + 2 * last.width + last.valid - 1] == Float(40 * 10 + 2))
            #expect(w.data.pointer[last.offset + last.valid] == 0)
        }
        let narrow = PackedWeights(outputs: 5, taps: 1, inputChannels: 1, bias: nil, family: .avx2) { _, _, _ in 1 }
        #expect(narrow.panels.map(\.width) == [8])
    }

    /// GEMM with direct rows: M around the tile rows (1, 5, 6, 7, 8, 9, 13), N around the panel widths (1, 8,
    /// 9, 16, 17, 24, 25, 33, 40), K past one K block; every activation, with and without residual.
    @Test(arguments: [
        (1, 1, 1), (5, 8, 3), (6, 16, 16), (7, 9, 31), (8, 24, 5), (9, 25, 64), (13, 33, 513), (12, 40, 7),
        (1, 17, 70), (14, 48, 600),
    ])
    func gemmMatchesReference(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SeededGenerator(seed: UInt64(m * 7919 + n * 31 + k))
        let a = rng.floats(m * k)
        let b = rng.floats(k * n)
        let bias = rng.floats(n)
        let residual = rng.floats(m * n)
        let aBuf = buffer(a)
        let rBuf = buffer(residual)
        for family in Self.families {
            let weights = PackedWeights(matrix: b, k: k, n: n, transposed: false, bias: bias, family: family)
            for activation in KernelActivation.allCases {
                for withResidual in [false, true] {
                    let cBuf = FloatBuffer(count: m * n)
                    GEMM.run(
                        GEMM.Problem(
                            rows: .direct(base: aBuf.pointer, stride: k), m: m, weights: weights, c: cBuf.pointer,
                            ldc: n, activation: activation, residual: withResidual ? UnsafePointer(rBuf.pointer) : nil,
                            ldr: n),
                        pool: nil)
                    let ref = referenceGEMM(
                        a: a, m: m, k: k, b: b, n: n, bias: bias, activation: activation,
                        residual: withResidual ? residual : nil)
                    let ratio = worstRatio(cBuf.array, ref.values, scale: ref.scale, atol: 1e-5, rtol: 2e-5)
                    #expect(ratio <= 1, "\(family) m=\(m) n=\(n) k=\(k) \(activation) residual=\(withResidual)")
                    #expect(cBuf.pointer[m * n] == 0)
                }
            }
        }
    }

    /// Plain sums (Winograd's products) over several K blocks, and indirect rows with zero rows, per family.
    @Test(arguments: [(7, 40, 9, 3), (13, 17, 9, 24), (6, 8, 4, 300), (1, 33, 2, 700)])
    func indirectAndRawMatchReference(_ shape: (Int, Int, Int, Int)) {
        let (m, n, taps, channels) = shape
        var rng = SeededGenerator(seed: UInt64(m * 13 + n + taps * 101 + channels))
        let sourceRows = 5
        let source = rng.floats(sourceRows * channels)
        let sourceBuf = buffer(source)
        let zero = FloatBuffer(count: channels)
        let picks = (0..<(m * taps)).map { _ in Int.random(in: -1..<sourceRows, using: &rng) }
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
        let zeros = [Float](repeating: 0, count: n)
        for family in Self.families {
            let weights = PackedWeights(
                outputs: n, taps: taps, inputChannels: channels, bias: bias, family: family
            ) { j, t, c in b[(t * channels + c) * n + j] }
            for raw in [false, true] {
                let cBuf = FloatBuffer(count: m * n)
                var p = GEMM.Problem(
                    rows: .indirect(table: UnsafePointer(table)), m: m, weights: weights, c: cBuf.pointer, ldc: n,
                    activation: .silu)
                p.raw = raw
                GEMM.run(p, pool: WorkerPool(threads: 2))
                let ref = referenceGEMM(
                    a: a, m: m, k: k, b: b, n: n, bias: raw ? zeros : bias, activation: raw ? .none : .silu,
                    residual: nil)
                let ratio = worstRatio(cBuf.array, ref.values, scale: ref.scale, atol: 1e-5, rtol: 2e-5)
                #expect(ratio <= 1, "\(family) \(shape) raw=\(raw)")
            }
        }
    }

    /// Depthwise with fused activation and SE sums, per family, against the float64 reference.
    @Test(arguments: awkwardConvCases)
    func depthwiseMatchesReference(_ c: ConvCase) {
        let (batch, h, w, ch, k, s, pads, d) = c
        var rng = SeededGenerator(seed: UInt64(h * 17 + w * 3 + ch))
        let g = NHWCConvGeometry(
            batch: batch, inHeight: h, inWidth: w, inChannels: ch, outChannels: ch, kernel: (k, k), stride: (s, s),
            pads: pads, dilation: (d, d))
        let x = rng.floats(g.inPixels * ch)
        let wt = rng.floats(ch * k * k)
        let b = rng.floats(ch)
        let weights = DepthwiseWeights(weights: wt, shape: [ch, 1, k, k], bias: b)
        let input = buffer(x)
        for activation in [KernelActivation.silu, .relu6, .hardswish] {
            let ref = referenceConvNHWC(x, g, weights: wt, bias: b, depthwise: true, activation: activation)
            let pixels = g.outHeight * g.outWidth
            for family in Self.families {
                let out = FloatBuffer(count: g.outPixels * ch)
                let pc = weights.paddedChannels
                let sums = FloatBuffer(count: batch * pc)
                let scratch = FloatBuffer(count: g.batch * g.outHeight * pc)
                Depthwise.run(
                    input: input.pointer, geometry: g, weights: weights, output: out.pointer, activation: activation,
                    seSums: sums.pointer, seScratch: scratch.pointer, pool: WorkerPool(threads: 2),
                    kernels: KernelDispatch.table(for: family))
                #expect(
                    worstRatio(out.array, ref.values, scale: ref.scale, atol: 1e-5, rtol: 1e-5) <= 1,
                    "\(family) \(c) \(activation)")
                for n in 0..<batch {
                    for cc in 0..<ch {
                        var want = 0.0
                        var mag = 0.0
                        for p in 0..<pixels {
                            want += ref.values[(n * pixels + p) * ch + cc]
                            mag += abs(ref.values[(n * pixels + p) * ch + cc])
                        }
                        #expect(abs(Double(sums.pointer[n * pc + cc]) - want) <= 1e-5 * (1 + mag), "\(family) SE sum")
                    }
                }
            }
        }
    }

    /// Winograd F(2×2, 3×3) and F(4×4, 3×3) per family (its GEMM panels and transforms, at channel counts that
    /// leave 8-, 4- and 1–3-lane tails in every vector width, H and W not multiples of 4), against the direct
    /// float64 convolution; tolerances as `WinogradTests`.
    @Test(arguments: [(1, 6, 7, 32, 40), (2, 5, 5, 17, 9), (1, 9, 8, 48, 64), (1, 11, 13, 29, 75), (1, 3, 14, 13, 7)])
    func winogradMatchesReference(_ shape: (Int, Int, Int, Int, Int)) {
        let (batch, h, w, cin, cout) = shape
        var rng = SeededGenerator(seed: UInt64(h * 5 + w + cin * 3 + cout))
        let g = NHWCConvGeometry(
            batch: batch, inHeight: h, inWidth: w, inChannels: cin, outChannels: cout, kernel: (3, 3),
            pads: [1, 1, 1, 1])
        let x = rng.floats(g.inPixels * cin)
        let wt = rng.floats(cout * cin * 9, in: -0.5...0.5)
        let b = rng.floats(cout)
        let residual = rng.floats(g.outPixels * cout)
        let ref = referenceConvNHWC(x, g, weights: wt, bias: b, depthwise: false, activation: .silu)
        let want = zip(ref.values, residual).map { $0 + Double($1) }
        let input = buffer(x)
        let rBuf = buffer(residual)
        for family in Self.families {
            for variant in WinogradVariant.allCases {
                let (atol, rtol) = variant == .f2x2 ? (2e-5, 5e-5) : (1e-4, 2e-4)
                let weights = WinogradWeights(
                    weights: wt, bias: b, inChannels: cin, outChannels: cout, variant: variant, family: family)
                let conv = WinogradConv(geometry: g, weights: weights, input: input.pointer, threads: 2)
                let out = FloatBuffer(count: g.outPixels * cout)
                conv.run(
                    output: out.pointer, outputStride: cout, activation: .silu, residual: rBuf.pointer,
                    residualStride: cout, pool: WorkerPool(threads: 2))
                let scale = zip(ref.scale, residual).map { $0 + abs(Double($1)) }
                #expect(
                    worstRatio(out.array, want, scale: scale, atol: atol, rtol: rtol) <= 1,
                    "\(family) \(variant) \(shape)")
            }
        }
    }

    /// The activation kernel (with SE sums) per family equals the scalar form lane for lane: both use the same
    /// fused multiply-adds, so the families agree bit for bit.
    @Test func activationsAgreeAcrossFamilies() {
        var rng = SeededGenerator(seed: 5)
        let n = 37
        let xs = rng.floats(n, in: -12...12)
        for activation in KernelActivation.allCases {
            for family in Self.families {
                let b = buffer(xs)
                let sums = FloatBuffer(count: 48)
                KernelDispatch.table(for: family).activation(activation, b.pointer, n, sums.pointer)
                for i in 0..<n {
                    #expect(b.pointer[i] == activation.apply(xs[i]), "\(family) \(activation) \(xs[i])")
                    #expect(sums.pointer[i] == b.pointer[i])
                }
            }
        }
    }

    /// SE scale, scaled packed weights, scaled rows and the global pool, per family, against the active family
    /// and plain loops.
    @Test(arguments: [(5, 3), (16, 4), (17, 4), (40, 10)])
    func squeezeExciteAndPoolMatch(_ shape: (Int, Int)) {
        let (c, r) = shape
        var rng = SeededGenerator(seed: UInt64(c * 31 + r))
        let se = SqueezeExcite(
            reduce: rng.floats(r * c), reduceBias: rng.floats(r), expand: rng.floats(c * r), expandBias: rng.floats(c),
            channels: c, reduced: r, activation: .silu, gate: .sigmoid)
        let pixels = 9
        let x = rng.floats(pixels * c)
        let sums = FloatBuffer(count: se.paddedChannels)
        for p in 0..<pixels { for i in 0..<c { sums.pointer[i] += x[p * c + i] } }
        let hidden = FloatBuffer(count: r)
        let expected = FloatBuffer(count: se.paddedChannels)
        se.computeScale(sums: sums.pointer, pixels: pixels, hidden: hidden.pointer, scale: expected.pointer)
        let pw = rng.floats(20 * c)
        for family in Self.families {
            let kernels = KernelDispatch.table(for: family)
            let scale = FloatBuffer(count: se.paddedChannels)
            se.computeScale(
                sums: sums.pointer, pixels: pixels, hidden: hidden.pointer, scale: scale.pointer, kernels: kernels)
            for i in 0..<c {
                #expect(abs(scale.pointer[i] - expected.pointer[i]) <= 1e-6, "\(family) scale \(i)")
            }
            let packed = PackedWeights(convWeights: pw, shape: [20, c, 1, 1], bias: nil, family: family)
            let scaled = FloatBuffer(count: packed.data.count)
            SqueezeExcite.scalePacked(packed, scale: scale.pointer, into: scaled.pointer)
            for panel in packed.panels {
                for k in 0..<c {
                    for j in 0..<panel.width {
                        let at = panel.offset + k * panel.width + j
                        #expect(scaled.pointer[at] == packed.data.pointer[at] * scale.pointer[k])
                    }
                }
            }
            let rows = buffer(x)
            SqueezeExcite.scaleRows(rows.pointer, pixels: 0..<pixels, channels: c, scale: scale.pointer, kernels: kernels)
            for i in 0..<(pixels * c) { #expect(rows.pointer[i] == x[i] * scale.pointer[i % c]) }
            let pooled = FloatBuffer(count: c)
            let input = buffer(x)
            GlobalPool.average(
                input.pointer, batch: 1, pixels: pixels, channels: c, into: pooled.pointer, kernels: kernels)
            for i in 0..<c {
                let want = Double(sums.pointer[i]) / Double(pixels)
                #expect(abs(Double(pooled.pointer[i]) - want) <= 1e-6 * (1 + abs(want)), "\(family) pool \(i)")
            }
        }
    }

    /// The micro-kernel probe runs and reports a positive rate for every supported family.
    @Test func probeMeasuresEveryFamily() {
        for family in Self.families {
            #expect(KernelProbe.microkernelGFLOPS(family: family, seconds: 0.01) > 0, "\(family)")
            #expect(KernelProbe.fmaPeakGFLOPS(family: family, seconds: 0.01) > 0, "\(family)")
        }
    }

    /// The FMA peak loop runs every chain on every lane it is credited with: chains start at seed + i (i < 12) and
    /// each step adds a·(seed·1e-12), below half an ulp of a, so the values stay put and the lanes sum to exactly
    /// lanes · Σ(seed + i) however many steps ran.
    @Test func peakLoopComputesEveryChain() {
        for family in Self.families {
            let table = KernelDispatch.table(for: family)
            #expect(table.peakMultiplyAdds == 12 * family.lanes || family == .scalar, "\(family)")
            let lanes = Double(table.peakMultiplyAdds / 12)
            for (n, seed) in [(0, Float(1)), (1000, 2), (100_000, 1000)] {
                let want = lanes * (12 * Double(seed) + 66)
                let got = Double(table.fmaPeak(n, seed))
                #expect(got == want, "\(family) n=\(n): \(got) vs \(want)")
            }
        }
    }
}
