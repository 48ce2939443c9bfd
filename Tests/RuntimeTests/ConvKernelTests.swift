import Foundation
import Testing

@testable import Runtime

/// Direct float64 convolution over NHWC (`group` = 1 or depthwise): the scalar reference of the conv kernels.
/// Returns values and, per element, Σ|w·x| + |b| (the scale the float32 rounding error is proportional to).
func referenceConvNHWC(
    _ x: [Float], _ g: NHWCConvGeometry, weights w: [Float], bias: [Float], depthwise: Bool,
    activation: KernelActivation
) -> (values: [Double], scale: [Double]) {
    let cinPer = depthwise ? 1 : g.inChannels
    var out = [Double](repeating: 0, count: g.outPixels * g.outChannels)
    var scale = out
    for n in 0..<g.batch {
        for oy in 0..<g.outHeight {
            for ox in 0..<g.outWidth {
                for o in 0..<g.outChannels {
                    var acc = Double(bias[o])
                    var mag = abs(acc)
                    for ci in 0..<cinPer {
                        let c = depthwise ? o : ci
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                            if iy < 0 || iy >= g.inHeight { continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                                if ix < 0 || ix >= g.inWidth { continue }
                                let p =
                                    Double(x[((n * g.inHeight + iy) * g.inWidth + ix) * g.inChannels + c])
                                    * Double(w[((o * cinPer + ci) * g.kernelHeight + ky) * g.kernelWidth + kx])
                                acc += p
                                mag += abs(p)
                            }
                        }
                    }
                    let i = ((n * g.outHeight + oy) * g.outWidth + ox) * g.outChannels + o
                    out[i] = activation == .silu ? acc / (1 + exp(-acc)) : Double(activation.reference(Float(acc)))
                    scale[i] = mag + abs(out[i])
                }
            }
        }
    }
    return (out, scale)
}

/// (batch, height, width, channels, kernel, stride, pads [t, l, b, r], dilation)
typealias ConvCase = (Int, Int, Int, Int, Int, Int, [Int], Int)

let awkwardConvCases: [ConvCase] = [
    (1, 1, 1, 1, 3, 1, [1, 1, 1, 1], 1),
    (1, 3, 15, 3, 3, 2, [0, 0, 1, 1], 1),  // TF SAME, stride 2
    (2, 15, 16, 17, 3, 1, [1, 1, 1, 1], 1),
    (1, 16, 17, 16, 5, 2, [1, 1, 2, 2], 1),  // asymmetric 5×5
    (1, 17, 3, 33, 3, 2, [1, 1, 1, 1], 1),
    (1, 9, 9, 15, 3, 1, [2, 2, 2, 2], 2),  // dilation 2
    (1, 8, 7, 20, 5, 1, [2, 2, 2, 2], 1),
    (2, 5, 6, 48, 3, 3, [0, 1, 2, 0], 1),  // odd stride, odd pads
]

@Suite struct ConvKernelTests {
    /// Dense k×k convolutions through the indirection-buffer GEMM. Tolerance: 1e-5 absolute + 2e-5 relative to
    /// Σ|w·x| + |b| + |y| (float32 sums of ≤ 33·25 products).
    @Test(arguments: awkwardConvCases)
    func denseConvMatchesReference(_ c: ConvCase) {
        let (batch, h, w, cin, k, s, pads, d) = c
        for cout in [1, 17, 40] {
            var rng = SeededGenerator(seed: UInt64(h * 31 + w * 7 + cin + cout))
            let g = NHWCConvGeometry(
                batch: batch, inHeight: h, inWidth: w, inChannels: cin, outChannels: cout, kernel: (k, k),
                stride: (s, s),
                pads: pads, dilation: (d, d))
            let x = rng.floats(g.inPixels * cin)
            let wt = rng.floats(cout * cin * k * k)
            let b = rng.floats(cout)
            let packed = PackedWeights(convWeights: wt, shape: [cout, cin, k, k], bias: b)
            let input = buffer(x)
            let out = FloatBuffer(count: g.outPixels * cout)
            let conv = DenseConv(geometry: g, weights: packed, input: input.pointer, inputStride: cin)
            conv.run(output: out.pointer, outputStride: cout, activation: .silu, pool: WorkerPool(threads: 2))
            let ref = referenceConvNHWC(x, g, weights: wt, bias: b, depthwise: false, activation: .silu)
            #expect(
                worstRatio(out.array, ref.values, scale: ref.scale, atol: 1e-5, rtol: 2e-5) <= 1, "\(c) cout=\(cout)")
            #expect(out.pointer[out.count] == 0)
        }
    }

    /// Depthwise convolution with fused activation and SE sums, on 1 and 2 threads. Tolerance: 1e-5 absolute +
    /// 1e-5 relative (≤ 25 products per output); the SE sums are checked against the sum of the reference outputs
    /// with 1e-5 relative to Σ|y|.
    /// Past 144–192 channels a row is computed in several passes over channel blocks (the last with a partial
    /// block): 200 channels with a 5×5 kernel at 7×9, 300 with 3×3 stride 2.
    @Test(arguments: awkwardConvCases + [(1, 7, 9, 200, 5, 1, [2, 2, 2, 2], 1), (1, 11, 10, 300, 3, 2, [0, 0, 1, 1], 1)])
    func depthwiseMatchesReference(_ c: ConvCase) {
        let (batch, h, w, ch, k, s, pads, d) = c
        var rng = SeededGenerator(seed: UInt64(h * 13 + w * 5 + ch))
        let g = NHWCConvGeometry(
            batch: batch, inHeight: h, inWidth: w, inChannels: ch, outChannels: ch, kernel: (k, k), stride: (s, s),
            pads: pads, dilation: (d, d))
        let x = rng.floats(g.inPixels * ch)
        let wt = rng.floats(ch * k * k)
        let b = rng.floats(ch)
        let weights = DepthwiseWeights(weights: wt, shape: [ch, 1, k, k], bias: b)
        let ref = referenceConvNHWC(x, g, weights: wt, bias: b, depthwise: true, activation: .silu)
        for threads in [1, 2] {
            let input = buffer(x)
            let out = FloatBuffer(count: g.outPixels * ch)
            let pc = weights.paddedChannels
            let sums = FloatBuffer(count: batch * pc)
            let scratch = FloatBuffer(count: g.batch * g.outHeight * pc)
            Depthwise.run(
                input: input.pointer, geometry: g, weights: weights, output: out.pointer, activation: .silu,
                seSums: sums.pointer, seScratch: scratch.pointer, pool: WorkerPool(threads: threads))
            #expect(
                worstRatio(out.array, ref.values, scale: ref.scale, atol: 1e-5, rtol: 1e-5) <= 1,
                "\(c) threads=\(threads)")
            #expect(out.pointer[out.count] == 0)
            let pixels = g.outHeight * g.outWidth
            for n in 0..<batch {
                for cc in 0..<ch {
                    var want = 0.0
                    var mag = 0.0
                    for p in 0..<pixels {
                        want += ref.values[(n * pixels + p) * ch + cc]
                        mag += abs(ref.values[(n * pixels + p) * ch + cc])
                    }
                    #expect(abs(Double(sums.pointer[n * pc + cc]) - want) <= 1e-5 * (1 + mag), "SE sum n=\(n) c=\(cc)")
                }
            }
        }
    }

    /// SE: the two FCs against float64, and both scale sites (packed weights, activations) against each other
    /// through the project GEMM. Tolerance 1e-5 relative (sums of ≤ 40 products, one fastExp).
    @Test(arguments: [(1, 1), (3, 1), (16, 4), (17, 4), (33, 8), (40, 10)])
    func squeezeExciteMatchesReference(_ shape: (Int, Int)) {
        let (c, r) = shape
        var rng = SeededGenerator(seed: UInt64(c * 100 + r))
        let rw = rng.floats(r * c)
        let rb = rng.floats(r)
        let ew = rng.floats(c * r)
        let eb = rng.floats(c)
        let se = SqueezeExcite(
            reduce: rw, reduceBias: rb, expand: ew, expandBias: eb, channels: c, reduced: r, activation: .silu,
            gate: .sigmoid)
        let pixels = 7
        let sumsValues = rng.floats(c, in: -5...5)
        let sums = FloatBuffer(count: se.paddedChannels)
        for i in 0..<c { sums.pointer[i] = sumsValues[i] }
        let hidden = FloatBuffer(count: r)
        let scale = FloatBuffer(count: se.paddedChannels)
        se.computeScale(sums: sums.pointer, pixels: pixels, hidden: hidden.pointer, scale: scale.pointer)
        let mean = sumsValues.map { Double($0) / Double(pixels) }
        let h = (0..<r).map { j -> Double in
            let z = Double(rb[j]) + (0..<c).reduce(0.0) { $0 + Double(rw[j * c + $1]) * mean[$1] }
            return z / (1 + exp(-z))
        }
        for i in 0..<c {
            let z = Double(eb[i]) + (0..<r).reduce(0.0) { $0 + Double(ew[i * r + $1]) * h[$1] }
            let want = 1 / (1 + exp(-z))
            #expect(abs(Double(scale.pointer[i]) - want) <= 1e-5, "channel \(i)")
        }
        // Both scale sites give the same project output.
        let n = 20
        let x = rng.floats(pixels * c)
        let pw = rng.floats(n * c)
        let packed = PackedWeights(convWeights: pw, shape: [n, c, 1, 1], bias: nil)
        let g = NHWCConvGeometry(batch: 1, inHeight: 1, inWidth: pixels, inChannels: c, outChannels: n, kernel: (1, 1))
        let viaWeights = FloatBuffer(count: pixels * n)
        let scaled = FloatBuffer(count: packed.data.count)
        let input = buffer(x)
        SqueezeExcite.scalePacked(packed, scale: scale.pointer, into: scaled.pointer)
        DenseConv(geometry: g, weights: packed, input: input.pointer, inputStride: c)
            .run(
                output: viaWeights.pointer, outputStride: n, activation: .none, packedOverride: scaled.pointer,
                pool: nil)
        SqueezeExcite.scaleRows(input.pointer, pixels: 0..<pixels, channels: c, scale: scale.pointer)
        let viaActivations = FloatBuffer(count: pixels * n)
        DenseConv(geometry: g, weights: packed, input: input.pointer, inputStride: c)
            .run(output: viaActivations.pointer, outputStride: n, activation: .none, pool: nil)
        for i in 0..<(pixels * n) {
            #expect(
                abs(viaWeights.pointer[i] - viaActivations.pointer[i]) <= 1e-5 * (1 + abs(viaActivations.pointer[i])))
        }
    }

    /// Global average pooling at channel counts around the vector width. Tolerance 1e-6 relative to Σ|x|/n.
    @Test(arguments: [1, 3, 15, 16, 17, 33])
    func globalPoolMatchesReference(_ channels: Int) {
        var rng = SeededGenerator(seed: UInt64(channels))
        let (batch, pixels) = (2, 13)
        let x = rng.floats(batch * pixels * channels)
        let out = FloatBuffer(count: batch * channels)
        let input = buffer(x)  // keep the owner alive while the kernel reads it
        GlobalPool.average(input.pointer, batch: batch, pixels: pixels, channels: channels, into: out.pointer)
        for n in 0..<batch {
            for c in 0..<channels {
                let vals = (0..<pixels).map { Double(x[(n * pixels + $0) * channels + c]) }
                let want = vals.reduce(0, +) / Double(pixels)
                let mag = vals.map(abs).reduce(0, +) / Double(pixels)
                #expect(abs(Double(out.pointer[n * channels + c]) - want) <= 1e-6 * (1 + mag))
            }
        }
        #expect(out.pointer[out.count] == 0)
    }
}

@Suite struct WinogradTests {
    /// Both variants against the direct float64 convolution at odd sizes (H, W not multiples of the tile),
    /// asymmetric pads, channel counts around the vector widths (16, 8, 4 lanes and 1–3-lane tails), more output
    /// channels than one group (64) and more tiles than one block, with residual, on 1 and 2 threads. Tolerance,
    /// relative to Σ|w·x| + |b| + |y|: F(2×2) 2e-5 absolute + 5e-5 relative (its transforms add up to 16 terms of
    /// mixed sign before the channel sum, so the error bound grows ~4× over the direct GEMM's); F(4×4) 1e-4 + 2e-4
    /// (Bᵀ and Aᵀ scale by up to 5 and 8, G by 1/6 and 1/24: about 10× F(2×2)'s rounding; these cases measure
    /// 1–3e-5 relative).
    @Test(arguments: [
        (1, 1, 1, 1, 1, [1, 1, 1, 1]), (1, 3, 15, 3, 17, [1, 1, 1, 1]), (2, 15, 16, 17, 16, [0, 0, 2, 2]),
        (1, 16, 17, 33, 3, [1, 1, 1, 1]), (1, 17, 9, 24, 24, [0, 0, 1, 1]), (1, 7, 8, 48, 40, [2, 1, 0, 1]),
        (3, 5, 5, 16, 33, [1, 1, 1, 1]), (1, 13, 11, 37, 70, [1, 1, 1, 1]), (2, 30, 26, 20, 12, [1, 1, 1, 1]),
    ])
    func winogradMatchesReference(_ c: (Int, Int, Int, Int, Int, [Int])) {
        let (batch, h, w, cin, cout, pads) = c
        var rng = SeededGenerator(seed: UInt64(h * 7 + w * 3 + cin + cout * 11))
        let g = NHWCConvGeometry(
            batch: batch, inHeight: h, inWidth: w, inChannels: cin, outChannels: cout, kernel: (3, 3), pads: pads)
        let x = rng.floats(g.inPixels * cin)
        let wt = rng.floats(cout * cin * 9)
        let b = rng.floats(cout)
        let residual = rng.floats(g.outPixels * cout)
        let input = buffer(x)
        let res = buffer(residual)
        var ref = referenceConvNHWC(x, g, weights: wt, bias: b, depthwise: false, activation: .silu)
        for i in ref.values.indices { ref.values[i] += Double(residual[i]) }
        for variant in WinogradVariant.allCases {
            let (atol, rtol) = variant == .f2x2 ? (2e-5, 5e-5) : (1e-4, 2e-4)
            for threads in [1, 2] {
                let conv = WinogradConv(
                    geometry: g, weights: wt, bias: b, input: input.pointer, threads: threads, variant: variant)
                let out = FloatBuffer(count: g.outPixels * cout)
                conv.run(
                    output: out.pointer, outputStride: cout, activation: .silu, residual: res.pointer,
                    residualStride: cout, pool: WorkerPool(threads: threads))
                #expect(
                    worstRatio(out.array, ref.values, scale: ref.scale, atol: atol, rtol: rtol) <= 1,
                    "\(variant) \(c) threads=\(threads)")
                #expect(out.pointer[out.count] == 0)
            }
        }
    }

    /// `runTiles` (the depth-first pipeline's entry) writes pixel k of tile i at row i·m² + k, with the bias and
    /// activation, for both variants; positions past the image edge are skipped here.
    @Test(arguments: WinogradVariant.allCases)
    func tileOrderMatchesImageOrder(_ variant: WinogradVariant) {
        var rng = SeededGenerator(seed: 17)
        let g = NHWCConvGeometry(
            batch: 1, inHeight: 11, inWidth: 9, inChannels: 21, outChannels: 19, kernel: (3, 3), pads: [1, 1, 1, 1])
        let input = buffer(rng.floats(g.inPixels * g.inChannels))
        let conv = WinogradConv(
            geometry: g, weights: rng.floats(19 * 21 * 9), bias: rng.floats(19), input: input.pointer, threads: 1,
            variant: variant)
        let image = FloatBuffer(count: g.outPixels * 19)
        conv.run(output: image.pointer, outputStride: 19, activation: .silu, pool: nil)
        let perTile = conv.pixelsPerTile
        let rows = FloatBuffer(count: conv.totalTiles * perTile * 19)
        for first in stride(from: 0, to: conv.totalTiles, by: conv.blockTiles) {
            conv.runTiles(
                first: first, count: min(conv.blockTiles, conv.totalTiles - first), worker: 0,
                into: rows.pointer + first * perTile * 19, stride: 19, activation: .silu)
        }
        var checked = 0
        for tile in 0..<conv.totalTiles {
            for k in 0..<perTile {
                guard let p = conv.pixel(tile: tile, k: k) else { continue }
                for ch in 0..<19 { #expect(rows.pointer[(tile * perTile + k) * 19 + ch] == image.pointer[p * 19 + ch]) }
                checked += 1
            }
        }
        #expect(checked == g.outPixels)
    }
}
