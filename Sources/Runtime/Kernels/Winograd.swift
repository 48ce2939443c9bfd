import KernelCore

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
    package func pixel(tile: Int, k: Int) -> Int? { tiles.pixel(tile: tile, k: k) }

    /// What the family's transforms need.
    var tiles: WinogradTiles {
        WinogradTiles(
            geometry: geometry, input: input, bias: bias.pointer, tilesH: tilesH, tilesW: tilesW, vStride: vStride,
            mStride: mStride)
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
        let table = KernelDispatch.table(for: positions[0].family)
        table.winogradInput(tiles, first, count, v)
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
                table.gemm(p, 0..<((count + table.microRows - 1) / table.microRows), start..<end)
            }
            let channels = panels[start].start..<min(cout, panels[end - 1].start + panels[end - 1].width)
            let a = WinogradOutput(
                first: first, count: count, products: m, output: output, outputStride: outputStride,
                residual: residual, residualStride: residualStride, channels: channels, tileOrder: tileOrder)
            table.winogradOutput(tiles, activation, a)
            start = end
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
    package init(
        weights w: [Float], bias b: [Float]?, inChannels cin: Int, outChannels cout: Int,
        family: KernelFamily = .active
    ) {
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
        positions = WinogradWeights.pack(u, cin: cin, cout: cout, family: family)
        bias = FloatBuffer(count: (cout + 15) / 16 * 16)
        if let b { for o in 0..<cout { bias.pointer[o] = b[o] } }
    }

    private static func pack(_ u: [Float], cin: Int, cout: Int, family: KernelFamily) -> [PackedWeights] {
        (0..<16).map { e in
            PackedWeights(outputs: cout, taps: 1, inputChannels: cin, bias: nil, family: family) { o, _, c in
                u[(e * cout + o) * cin + c]
            }
        }
    }
}
