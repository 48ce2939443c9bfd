import KernelCore

/// A 3×3, stride-1 dense convolution by Winograd's minimal filtering F(m×m, 3×3), m = 2 or 4, over NHWC.
///
/// Each m×m output tile comes from an (m+2)×(m+2) input tile: Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A. The elementwise
/// product over the (m+2)² transform positions, summed over input channels, is that many independent GEMMs
/// (tiles × Cin)·(Cin × Cout), so the micro-kernels do the work with 16 multiplies per 2×2 tile (F(2×2), 2.25×
/// fewer than direct) or 36 per 4×4 tile (F(4×4), 4× fewer) instead of 9 per pixel. Tiles are processed in blocks
/// small enough that the transformed input and the GEMM outputs of a block stay in L2; bias, activation and
/// residual are applied in the output transform. Which variant a layer runs is the planner's choice
/// (`variant(for:)`).
///
/// Numerics: F(2×2)'s transforms only add, subtract and halve, so its error stays within a few ulp of the direct
/// sum's (tests bound it by 2e-5 absolute + 5e-5 relative to Σ|w·x| + |b| + |y|). F(4×4)'s transforms scale by up
/// to 8 and G has sixths, so its rounding error is about 10× the direct sum's (tests: 1e-4 + 2e-4 relative).
package final class WinogradConv: @unchecked Sendable {
    package let geometry: NHWCConvGeometry
    package let variant: WinogradVariant
    /// One packed matrix per transform position (K = Cin, N = Cout), zero bias.
    let positions: [PackedWeights]
    let bias: FloatBuffer
    let input: UnsafePointer<Float>
    let tilesH: Int
    let tilesW: Int
    let blockTiles: Int
    /// Per worker, `scratchFloats` apart: transformed inputs [positions][blockTiles][Cin] then GEMM outputs
    /// [positions][blockTiles][Cout].
    let scratch: UnsafeMutablePointer<Float>
    /// The scratch when this convolution owns it (not given at `init`).
    private let ownedScratch: FloatBuffer?

    /// True for the convolutions this handles: 3×3, stride 1, dilation 1, group 1.
    package static func applies(to g: NHWCConvGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1
            && g.dilationW == 1
    }

    /// The planner's choice for a 3×3 stride-1 convolution: F(4×4) when the output is at least 16×16 and both
    /// channel counts at least 16, else F(2×2) with at least 32 channels each way, else nil (the direct implicit
    /// GEMM).
    ///
    /// Measured with `effnet-kernel-bench wino-choice` (Xeon, AVX-512 and forced AVX2, 1 and 2 threads, ms):
    /// F(4×4) beats F(2×2) by 1.3–2× from 16² up (V2-S 96² 48→192: AVX-512 10.7 direct / 8.9 F(2×2) / 5.9
    /// F(4×4), AVX2 19.7 / 13.7 / 9.9; 48² 64→256 AVX2 8.7 / 5.3 / 3.6), and with 16–24 channels, where F(2×2)
    /// loses to direct (K = 24 leaves its GEMMs mostly epilogue), F(4×4) still wins: V2-S 192² 24→24 AVX-512
    /// 3.6 / 4.2 / 2.7, AVX2 6.0 / 6.2 / 3.6; B0 112² 32→16 AVX-512 1.0 / 1.1 / 0.8. Below 16² a 4×4 tile wastes
    /// more of the edge and there are too few tiles to share between two threads: 7²–14² at 2 threads favour
    /// F(2×2) (14² 48→192 AVX-512 0.17 against 0.20 ms). Under 16 channels both lose to direct (8 and 12
    /// channels at 64²). F(2×2)'s own threshold (Zen 4, inside the depth-first pipeline): 32→128 at 56² 1.4×
    /// faster than direct, 32→16 at 112² even, 24→24 at 192² 1.6× slower.
    package static func variant(for g: NHWCConvGeometry) -> WinogradVariant? {
        guard applies(to: g) else { return nil }
        if g.outHeight >= 16 && g.outWidth >= 16 && g.inChannels >= 16 && g.outChannels >= 16 { return .f4x4 }
        if g.inChannels >= 32 && g.outChannels >= 32 { return .f2x2 }
        return nil
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
        variant = weights.variant
        self.input = input
        positions = weights.positions
        bias = weights.bias
        let m = weights.variant.tile
        tilesH = (g.outHeight + m - 1) / m
        tilesW = (g.outWidth + m - 1) / m
        blockTiles = WinogradConv.blockTiles(inChannels: g.inChannels, variant: weights.variant)
        if let scratch {
            self.scratch = scratch
            ownedScratch = nil
        } else {
            let owned = FloatBuffer(count: max(1, threads) * WinogradConv.scratchFloats(g, variant: weights.variant))
            self.scratch = owned.pointer
            ownedScratch = owned
        }
    }

    /// Tiles per block: the block's transformed input and GEMM outputs for one group of output channels stay
    /// within about 32 KB per transform position for F(2×2) (16 positions), about 14 KB for F(4×4) (36 positions,
    /// so the block's whole working set stays about 512 KB either way).
    package static func blockTiles(inChannels cin: Int, variant: WinogradVariant) -> Int {
        switch variant {
        case .f2x2: min(64, max(8, 8192 / (cin + groupChannels) / 8 * 8))
        case .f4x4: min(32, max(8, 3640 / (cin + groupChannels) / 8 * 8))
        }
    }

    /// Scratch floats one worker needs for convolution `g` (a multiple of 16, so workers' parts stay aligned).
    package static func scratchFloats(_ g: NHWCConvGeometry, variant: WinogradVariant) -> Int {
        variant.positions
            * (blockTiles(inChannels: g.inChannels, variant: variant) * (g.inChannels + g.outChannels) + 32)
    }

    /// `weights` in ONNX layout [Cout, Cin, 3, 3], transformed for this convolution alone.
    package convenience init(
        geometry g: NHWCConvGeometry, weights w: [Float], bias b: [Float]?, input: UnsafePointer<Float>, threads: Int,
        variant: WinogradVariant = .f2x2
    ) {
        let transformed = WinogradWeights(
            weights: w, bias: b, inChannels: g.inChannels, outChannels: g.outChannels, variant: variant)
        self.init(geometry: g, weights: transformed, input: input, threads: threads, scratch: nil)
    }

    /// Output channels per pass over a block: the positions' packed weights for them (positions·Cin·64 floats),
    /// the block's transformed input and their GEMM outputs then fit in L2 together. With all output channels at
    /// once, V2-S's 48→192 layer needed 590 KB of weights per block and thrashed L2 (measured 1.2× over direct
    /// instead of ~1.8×).
    static let groupChannels = 64

    /// Floats between transform positions in the scratch buffers: a block plus 16 floats, so that the positions of
    /// one tile fall in different L1 sets. With a plain block stride (a multiple of 4 KB for 64 tiles × 48 or ×
    /// 192 channels) all 16 loads of the output transform hit one 8-way set and missed L1 every time.
    var vStride: Int { blockTiles * geometry.inChannels + 16 }
    var mStride: Int { blockTiles * geometry.outChannels + 16 }

    package var totalTiles: Int { geometry.batch * tilesH * tilesW }

    /// Output pixels per tile: m².
    package var pixelsPerTile: Int { variant.tile * variant.tile }

    @inline(__always)
    private func workerScratch(_ worker: Int) -> UnsafeMutablePointer<Float> {
        scratch + worker * WinogradConv.scratchFloats(geometry, variant: variant)
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

    /// Tiles `first ..< first + count` on the calling thread, written in tile order: row i·m² + k of `rows` (stride
    /// `stride`) holds pixel k (row-major in the m×m tile) of tile first + i. Rows of pixels past the image edge
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
            variant: variant, geometry: geometry, input: input, bias: bias.pointer, tilesH: tilesH, tilesW: tilesW,
            vStride: vStride, mStride: mStride)
    }

    private func runBlock(
        first: Int, count: Int, scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
        outputStride: Int, activation: KernelActivation, residual: UnsafePointer<Float>?, residualStride: Int,
        tileOrder: Bool = false
    ) {
        let g = geometry
        let (cin, cout) = (g.inChannels, g.outChannels)
        let v = scratch
        let m = scratch + variant.positions * vStride
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
            for e in 0..<variant.positions {
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

/// A 3×3 convolution's weights transformed for one Winograd variant: U = G g Gᵀ per (output, input) channel pair,
/// packed as one GEMM matrix per transform position (K = Cin, N = Cout). It does not depend on the input, so the
/// plans of one session share it (`SessionWeights`) and the ONNX weights can go once it is made.
package final class WinogradWeights: @unchecked Sendable {
    package let inChannels: Int
    package let outChannels: Int
    package let variant: WinogradVariant
    /// One packed matrix per transform position, zero bias.
    let positions: [PackedWeights]
    /// The bias padded to 16, added by the output transform.
    let bias: FloatBuffer

    /// G of each variant, (m + 2) × 3 row-major: F(2×2) interpolates at 0, ±1, ∞; F(4×4) at 0, ±1, ±2, ∞ (why
    /// those points: `Winograd4Kernel` in the kernel template).
    static func filterTransform(_ variant: WinogradVariant) -> [Double] {
        switch variant {
        case .f2x2:
            [1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1]
        case .f4x4:
            [
                1.0 / 4, 0, 0, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 24, 1.0 / 12, 1.0 / 6,
                1.0 / 24, -1.0 / 12, 1.0 / 6, 0, 0, 1,
            ]
        }
    }

    /// `weights` in ONNX layout [Cout, Cin, 3, 3].
    package init(
        weights w: [Float], bias b: [Float]?, inChannels cin: Int, outChannels cout: Int,
        variant: WinogradVariant = .f2x2, family: KernelFamily = .active
    ) {
        precondition(w.count == cout * cin * 9 && (b?.count ?? cout) >= cout)
        inChannels = cin
        outChannels = cout
        self.variant = variant
        let alpha = variant.alpha
        let positions = variant.positions
        let gm = WinogradWeights.filterTransform(variant)
        // U = G g Gᵀ per (o, c), in double, rounded once.
        var u = [Float](repeating: 0, count: positions * cout * cin)  // [e][o][c]
        var gg = [Double](repeating: 0, count: alpha * 3)  // G·g, alpha × 3
        for o in 0..<cout {
            for c in 0..<cin {
                let k = (o * cin + c) * 9
                for i in 0..<alpha {
                    for j in 0..<3 {
                        var sum = 0.0
                        for t in 0..<3 { sum += gm[i * 3 + t] * Double(w[k + t * 3 + j]) }
                        gg[i * 3 + j] = sum
                    }
                }
                for i in 0..<alpha {
                    for j in 0..<alpha {
                        var sum = 0.0
                        for t in 0..<3 { sum += gg[i * 3 + t] * gm[j * 3 + t] }
                        u[((i * alpha + j) * cout + o) * cin + c] = Float(sum)
                    }
                }
            }
        }
        self.positions = (0..<positions).map { e in
            PackedWeights(outputs: cout, taps: 1, inputChannels: cin, bias: nil, family: family) { o, _, c in
                u[(e * cout + o) * cin + c]
            }
        }
        bias = FloatBuffer(count: (cout + 15) / 16 * 16)
        if let b { for o in 0..<cout { bias.pointer[o] = b[o] } }
    }
}
