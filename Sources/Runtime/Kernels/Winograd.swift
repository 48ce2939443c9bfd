/// A 3×3, stride-1 dense convolution by Winograd's minimal filtering F(2×2, 3×3), over NHWC.
///
/// Each 2×2 output tile comes from a 4×4 input tile: Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A. The elementwise product over
/// the 16 transform positions, summed over input channels, is 16 independent GEMMs (tiles × Cin)·(Cin × Cout), so
/// the micro-kernels do the work with 16 multiplies per tile instead of 36: 2.25× fewer MACs for Fused-MBConv's
/// 3×3 convolutions (≈ 44% of EfficientNetV2-S). Tiles are processed in blocks small enough that the transformed
/// input and the 16 GEMM outputs of a block stay in L2 (16·T·(Cin + Cout) floats ≤ 512 KB); bias, activation
/// and residual are applied in the output transform.
///
/// Numerics: the transforms only add, subtract and halve, so the error stays within a few ulp of the direct sum's
/// (tests bound it by 2e-5 absolute + 5e-5 relative to Σ|w·x| + |b| + |y|).
package final class WinogradConv: @unchecked Sendable {
    package let geometry: NHWCConvGeometry
    /// One packed matrix per transform position (K = Cin, N = Cout), zero bias.
    let positions: [PackedWeights]
    let bias: FloatBuffer
    let input: UnsafePointer<Float>
    let tilesH: Int
    let tilesW: Int
    let blockTiles: Int
    /// Per worker, `scratchFloats` apart: transformed inputs [16][blockTiles][Cin] then GEMM outputs
    /// [16][blockTiles][Cout].
    let scratch: UnsafeMutablePointer<Float>
    /// The scratch when this convolution owns it (not given at `init`).
    private let ownedScratch: FloatBuffer?

    /// True for the convolutions this handles: 3×3, stride 1, dilation 1, group 1.
    package static func applies(to g: NHWCConvGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1
            && g.dilationW == 1
    }

    /// Whether the plan should prefer Winograd over the direct implicit GEMM. Measured on Zen 4 (1 thread, inside
    /// the depth-first FusedMBConv pipeline): 48→192 at 96² 1.4× faster, 64→256 at 48² 1.5×, 32→128 at 56² 1.4×;
    /// 32→16 at 112² even; 24→24 at 192² 1.6× slower (K = 24 leaves the micro-kernels mostly epilogue). Hence at
    /// least 32 channels each way.
    package static func preferred(for g: NHWCConvGeometry) -> Bool {
        applies(to: g) && g.inChannels >= 32 && g.outChannels >= 32
    }

    /// `weights` transformed once (shared by every plan of a session); `input` NHWC with Cin floats per pixel;
    /// `scratch`: `threads × scratchFloats` floats, 64-byte aligned, for this convolution's duration only (a plan
    /// passes arena memory that other steps reuse); nil to own a buffer.
    package init(
        geometry g: NHWCConvGeometry, weights: WinogradWeights, input: UnsafePointer<Float>, threads: Int,
        scratch: UnsafeMutablePointer<Float>? = nil
    ) {
        precondition(
            WinogradConv.applies(to: g) && weights.inChannels == g.inChannels && weights.outChannels == g.outChannels)
        geometry = g
        self.input = input
        positions = weights.positions
        bias = weights.bias
        tilesH = (g.outHeight + 1) / 2
        tilesW = (g.outWidth + 1) / 2
        blockTiles = WinogradConv.blockTiles(inChannels: g.inChannels)
        if let scratch {
            self.scratch = scratch
            ownedScratch = nil
        } else {
            let owned = FloatBuffer(count: max(1, threads) * WinogradConv.scratchFloats(g))
            self.scratch = owned.pointer
            ownedScratch = owned
        }
    }

    /// Tiles per block: the block's transformed input and GEMM outputs for one group of output channels stay
    /// within about 32 KB per transform position.
    package static func blockTiles(inChannels cin: Int) -> Int {
        min(64, max(8, 8192 / (cin + groupChannels) / 8 * 8))
    }

    /// Scratch floats one worker needs for convolution `g` (a multiple of 16, so workers' parts stay aligned).
    package static func scratchFloats(_ g: NHWCConvGeometry) -> Int {
        16 * (blockTiles(inChannels: g.inChannels) * (g.inChannels + g.outChannels) + 32)
    }

    /// `weights` in ONNX layout [Cout, Cin, 3, 3], transformed for this convolution alone.
    package convenience init(
        geometry g: NHWCConvGeometry, weights w: [Float], bias b: [Float]?, input: UnsafePointer<Float>, threads: Int
    ) {
        let transformed = WinogradWeights(weights: w, bias: b, inChannels: g.inChannels, outChannels: g.outChannels)
        self.init(geometry: g, weights: transformed, input: input, threads: threads, scratch: nil)
    }

    /// Output channels per pass over a block: the 16 positions' packed weights for them (16·Cin·64 floats), the
    /// block's transformed input and their 16 GEMM outputs then fit in L2 together. With all output channels at
    /// once, V2-S's 48→192 layer needed 590 KB of weights per block and thrashed L2 (measured 1.2× over direct
    /// instead of ~1.8×).
    static let groupChannels = 64

    /// Floats between transform positions in the scratch buffers: a block plus 16 floats, so that the 16 positions
    /// of one tile fall in different L1 sets. With a plain block stride (a multiple of 4 KB for 64 tiles × 48 or ×
    /// 192 channels) all 16 loads of the output transform hit one 8-way set and missed L1 every time.
    var vStride: Int { blockTiles * geometry.inChannels + 16 }
    var mStride: Int { blockTiles * geometry.outChannels + 16 }

    package var totalTiles: Int { geometry.batch * tilesH * tilesW }

    @inline(__always)
    private func workerScratch(_ worker: Int) -> UnsafeMutablePointer<Float> {
        scratch + worker * WinogradConv.scratchFloats(geometry)
    }

    /// out = act(conv + bias) + residual, NHWC with `outputStride` / `residualStride` floats per pixel.
    package func run(
        output: UnsafeMutablePointer<Float>, outputStride: Int, activation: KernelActivation,
        residual: UnsafePointer<Float>? = nil, residualStride: Int = 0, pool: WorkerPool?
    ) {
        let (blocks, per) = balancedBlocks(
            total: totalTiles, capacity: blockTiles, threads: pool?.threadCount ?? 1, granule: 2)
        let body: (Range<Int>, Int) -> Void = { range, worker in
            for block in range {
                let first = block * per
                let count = min(per, self.totalTiles - first)
                if count <= 0 { continue }
                self.runBlock(
                    first: first, count: count, scratch: self.workerScratch(worker), output: output,
                    outputStride: outputStride, activation: activation, residual: residual,
                    residualStride: residualStride)
            }
        }
        if let pool { pool.parallelFor(blocks, body) } else { body(0..<blocks, 0) }
    }

    /// Tiles `first ..< first + count` on the calling thread, written in tile order: row i·4 + k of `rows` (stride
    /// `stride`) holds pixel k (row-major in the 2×2 tile) of tile first + i. Rows of pixels past the image edge
    /// hold finite, meaningless values (see `pixel(tile:k:)`). For depth-first fusion with a following 1×1 conv.
    package func runTiles(
        first: Int, count: Int, worker: Int, into rows: UnsafeMutablePointer<Float>, stride: Int,
        activation: KernelActivation
    ) {
        runBlock(
            first: first, count: count, scratch: workerScratch(worker), output: rows, outputStride: stride,
            activation: activation, residual: nil, residualStride: 0, tileOrder: true)
    }

    /// The output pixel (index over batch × outHeight × outWidth) of position k of tile `tile`, or nil past the edge.
    @inline(__always)
    package func pixel(tile: Int, k: Int) -> Int? {
        let perImage = tilesH * tilesW
        let n = tile / perImage
        let ty = (tile % perImage) / tilesW
        let tx = tile % tilesW
        let y = 2 * ty + k / 2
        let x = 2 * tx + k % 2
        if y >= geometry.outHeight || x >= geometry.outWidth { return nil }
        return (n * geometry.outHeight + y) * geometry.outWidth + x
    }

    private func runBlock(
        first: Int, count: Int, scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
        outputStride: Int, activation: KernelActivation, residual: UnsafePointer<Float>?, residualStride: Int,
        tileOrder: Bool = false
    ) {
        let g = geometry
        let (cin, cout) = (g.inChannels, g.outChannels)
        let v = scratch
        let m = scratch + 16 * vStride
        transformInput(first: first, count: count, into: v)
        let panels = positions[0].panels
        var start = 0
        while start < panels.count {
            // Panels covering about `groupChannels` output channels.
            var end = start
            while end < panels.count
                && panels[end].start + panels[end].width - panels[start].start <= WinogradConv.groupChannels
            {
                end += 1
            }
            end = max(end, start + 1)
            for e in 0..<16 {
                var p = GEMM.Problem(
                    rows: .direct(base: v + e * vStride, stride: cin), m: count, weights: positions[e],
                    c: m + e * mStride, ldc: cout)
                p.raw = true
                GEMM.compute(p, tiles: 0..<((count + microRows - 1) / microRows), panels: start..<end)
            }
            let channels = panels[start].start..<min(cout, panels[end - 1].start + panels[end - 1].width)
            let a = (first, count, m, output, outputStride, residual, residualStride, channels, tileOrder)
            switch activation {
            case .none: transformOutput(IdentityOp.self, a)
            case .silu: transformOutput(SiluOp.self, a)
            case .relu: transformOutput(ReluOp.self, a)
            case .relu6: transformOutput(Relu6Op.self, a)
            case .sigmoid: transformOutput(SigmoidOp.self, a)
            case .hardswish: transformOutput(HardSwishOp.self, a)
            case .hardsigmoid: transformOutput(HardSigmoidOp.self, a)
            }
            start = end
        }
    }

    /// V[e][i][c] = (Bᵀ d B)[e] for the block's tiles, 16 channels at a time; pixels outside the image are zero.
    private func transformInput(first: Int, count: Int, into v: UnsafeMutablePointer<Float>) {
        let g = geometry
        let cin = g.inChannels
        let perImage = tilesH * tilesW
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 16) { dbuf in
            let d = dbuf.baseAddress!
            for i in 0..<count {
                let tile = first + i
                let n = tile / perImage
                let ty = (tile % perImage) / tilesW
                let tx = tile % tilesW
                let y0 = 2 * ty - g.padTop
                let x0 = 2 * tx - g.padLeft
                let image = input + n * g.inHeight * g.inWidth * cin
                let interior = y0 >= 0 && y0 + 3 < g.inHeight && x0 >= 0 && x0 + 3 < g.inWidth
                var cb = 0
                while cb < cin {
                    let lanes = min(16, cin - cb)
                    if interior {
                        // The whole 4×4 patch is inside the image: no bounds checks.
                        let base = image + (y0 * g.inWidth + x0) * cin + cb
                        for r in 0..<4 {
                            let row = base + r * g.inWidth * cin
                            for c in 0..<4 {
                                d[r * 4 + c] =
                                    lanes == 16 ? loadVector(row + c * cin) : loadPartial(row + c * cin, lanes)
                            }
                        }
                    } else {
                        for r in 0..<4 {
                            let y = y0 + r
                            for c in 0..<4 {
                                let x = x0 + c
                                if y >= 0 && y < g.inHeight && x >= 0 && x < g.inWidth {
                                    let p = image + (y * g.inWidth + x) * cin + cb
                                    d[r * 4 + c] = lanes == 16 ? loadVector(p) : loadPartial(p, lanes)
                                } else {
                                    d[r * 4 + c] = SIMD16()
                                }
                            }
                        }
                    }
                    for c in 0..<4 {  // Bᵀ d, column by column
                        let (d0, d1, d2, d3) = (d[c], d[4 + c], d[8 + c], d[12 + c])
                        d[c] = d0 - d2
                        d[4 + c] = d1 + d2
                        d[8 + c] = d2 - d1
                        d[12 + c] = d1 - d3
                    }
                    for r in 0..<4 {  // (Bᵀ d) B, row by row
                        let (a0, a1, a2, a3) = (d[r * 4], d[r * 4 + 1], d[r * 4 + 2], d[r * 4 + 3])
                        let dst = v + r * 4 * vStride + i * cin + cb
                        let step = vStride
                        if lanes == 16 {
                            storeVector(a0 - a2, dst)
                            storeVector(a1 + a2, dst + step)
                            storeVector(a2 - a1, dst + 2 * step)
                            storeVector(a1 - a3, dst + 3 * step)
                        } else {
                            storePartial(a0 - a2, dst, lanes)
                            storePartial(a1 + a2, dst + step, lanes)
                            storePartial(a2 - a1, dst + 2 * step, lanes)
                            storePartial(a1 - a3, dst + 3 * step, lanes)
                        }
                    }
                    cb += 16
                }
            }
        }
    }

    /// Y = Aᵀ m A + bias per tile and 16 output channels, stored; then, per output pixel, the activation (and the
    /// residual) over the channel range in a second pass. Applying the activation inside the transform loop kept
    /// four exp/divide chains and sixteen loads live at once and spilled (measured: 23% of the layer's time).
    private func transformOutput<Op: PointwiseOp>(
        _ op: Op.Type,
        _ a: (
            Int, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int, UnsafePointer<Float>?, Int,
            Range<Int>, Bool
        )
    ) {
        let (first, count, m, output, outputStride, residual, residualStride, channels, tileOrder) = a
        let cout = geometry.outChannels
        let width = channels.count
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: 4) { dstBuffer in
            let dst = dstBuffer.baseAddress!
            for i in 0..<count {
                var pixels = (0, 0, 0, 0)
                for k in 0..<4 {
                    if tileOrder {
                        dst[k] = output + (i * 4 + k) * outputStride
                    } else if let p = pixel(tile: first + i, k: k) {
                        dst[k] = output + p * outputStride
                        switch k {
                        case 0: pixels.0 = p
                        case 1: pixels.1 = p
                        case 2: pixels.2 = p
                        default: pixels.3 = p
                        }
                    } else {
                        dst[k] = nil
                    }
                }
                let (d0, d1, d2, d3) = (dst[0], dst[1], dst[2], dst[3])
                var cb = channels.lowerBound
                while cb < channels.upperBound {
                    let lanes = min(16, channels.upperBound - cb)
                    @inline(__always) func at(_ e: Int) -> SIMD16<Float> {
                        let p = m + e * mStride + i * cout + cb
                        return lanes == 16 ? loadVector(p) : loadPartial(p, lanes)
                    }
                    // Aᵀ m: two rows of four.
                    let s00 = at(0) + at(4) + at(8)
                    let s01 = at(1) + at(5) + at(9)
                    let s02 = at(2) + at(6) + at(10)
                    let s03 = at(3) + at(7) + at(11)
                    let s10 = at(4) - at(8) - at(12)
                    let s11 = at(5) - at(9) - at(13)
                    let s12 = at(6) - at(10) - at(14)
                    let s13 = at(7) - at(11) - at(15)
                    let b = loadVector(bias.pointer + cb)
                    @inline(__always) func put(_ v: SIMD16<Float>, _ d: UnsafeMutablePointer<Float>?) {
                        guard let d else { return }
                        if lanes == 16 { storeVector(v, d + cb) } else { storePartial(v, d + cb, lanes) }
                    }
                    put(s00 + s01 + s02 + b, d0)
                    put(s01 - s02 - s03 + b, d1)
                    put(s10 + s11 + s12 + b, d2)
                    put(s11 - s12 - s13 + b, d3)
                    cb += 16
                }
                for k in 0..<4 {
                    guard let d = dst[k] else { continue }
                    let segment = d + channels.lowerBound
                    KernelActivation.map(Op.self, segment, width, nil)
                    if let residual {
                        let p = k == 0 ? pixels.0 : k == 1 ? pixels.1 : k == 2 ? pixels.2 : pixels.3
                        let r = residual + p * residualStride + channels.lowerBound
                        var c = 0
                        while c + 16 <= width {
                            storeVector(loadVector(segment + c) + loadVector(r + c), segment + c)
                            c += 16
                        }
                        while c < width {
                            segment[c] += r[c]
                            c += 1
                        }
                    }
                }
            }
        }
    }
}

/// A 3×3 convolution's weights transformed for F(2×2, 3×3): U = G g Gᵀ per (output, input) channel pair, packed
/// as one GEMM matrix per transform position (K = Cin, N = Cout). It does not depend on the input, so the plans
/// of one session share it (`SessionWeights`) and the ONNX weights can go once it is made.
package final class WinogradWeights: @unchecked Sendable {
    package let inChannels: Int
    package let outChannels: Int
    /// One packed matrix per transform position, zero bias.
    let positions: [PackedWeights]
    /// The bias padded to 16, added by the output transform.
    let bias: FloatBuffer

    /// `weights` in ONNX layout [Cout, Cin, 3, 3].
    package init(weights w: [Float], bias b: [Float]?, inChannels cin: Int, outChannels cout: Int) {
        precondition(w.count == cout * cin * 9 && (b?.count ?? cout) >= cout)
        inChannels = cin
        outChannels = cout
        // U = G g Gᵀ per (o, c), in double.
        var u = [Float](repeating: 0, count: 16 * cout * cin)  // [e][o][c]
        for o in 0..<cout {
            for c in 0..<cin {
                let k = (0..<9).map { Double(w[(o * cin + c) * 9 + $0]) }
                var gg = [Double](repeating: 0, count: 12)  // 4×3 = G·g
                for j in 0..<3 {
                    let (g0, g1, g2) = (k[j], k[3 + j], k[6 + j])
                    gg[j] = g0
                    gg[3 + j] = (g0 + g1 + g2) / 2
                    gg[6 + j] = (g0 - g1 + g2) / 2
                    gg[9 + j] = g2
                }
                for i in 0..<4 {
                    let (r0, r1, r2) = (gg[i * 3], gg[i * 3 + 1], gg[i * 3 + 2])
                    let row = [r0, (r0 + r1 + r2) / 2, (r0 - r1 + r2) / 2, r2]
                    for j in 0..<4 { u[((i * 4 + j) * cout + o) * cin + c] = Float(row[j]) }
                }
            }
        }
        positions = WinogradWeights.pack(u, cin: cin, cout: cout)
        bias = FloatBuffer(count: (cout + 15) / 16 * 16)
        if let b { for o in 0..<cout { bias.pointer[o] = b[o] } }
    }

    private static func pack(_ u: [Float], cin: Int, cout: Int) -> [PackedWeights] {
        (0..<16).map { e in
            PackedWeights(outputs: cout, taps: 1, inputChannels: cin, bias: nil) { o, _, c in
                u[(e * cout + o) * cin + c]
            }
        }
    }
}
