import KernelCore

/// The input and output transforms of Winograd F(4×4, 3×3) (see `WinogradConv` in the Runtime, which runs the 36
/// GEMMs between them), vectorised across channels in the family's register width (`FamilyVector`: 16 lanes for
/// AVX-512, 8 for AVX2, 4 for NEON and the scalar build; channel tails go down through 8 and 4 lanes, the last 1–3
/// lanes are partial). This file is compiled once per kernel family (symlinked).
///
/// Interpolation points 0, ±1, ±2 and ∞ (Lavin & Gray):
///
///     Bᵀ = [4  0 −5  0  1  0]    G = [ 1/4     0     0 ]    Aᵀ = [1  1  1  1  1  0]
///          [0 −4 −4  1  1  0]        [−1/6  −1/6  −1/6 ]         [0  1 −1  2 −2  0]
///          [0  4 −4 −1  1  0]        [−1/6   1/6  −1/6 ]         [0  1  1  4  4  0]
///          [0 −2 −1  2  1  0]        [1/24  1/12   1/6 ]         [0  1 −1  8 −8  1]
///          [0  2 −1 −2  1  0]        [1/24 −1/12   1/6 ]
///          [0  4  0 −5  0  1]        [   0     0     1 ]
///
/// The symmetric pairs ±1, ±2 let each 6-point transform share its even and odd halves (12 adds/FMAs for Bᵀ, 10 for
/// Aᵀ per column). Sets with ±1/2 (0, ±1, 1/2, −2) measured 2–3× smaller worst-case error in a float32 simulation
/// (64 channels, N(0,1) inputs: 2.4e-5 against 5.7e-5 for a 2.4-magnitude output) but lose the symmetry, so
/// their transforms cost about twice the arithmetic; with these points the full-size models still pass
/// `effnet verify` at 1e-4 (README, Performance).
enum Winograd4Kernel {
    /// V[e][i][c] = (Bᵀ d B)[e] for the block's tiles (e = 6r + c over the 6×6 positions); pixels outside the image
    /// are zero.
    static func transformInput(_ w: WinogradTiles, first: Int, count: Int, into v: UnsafeMutablePointer<Float>) {
        let g = w.geometry
        let cin = g.inChannels
        let perImage = w.tilesH * w.tilesW
        let width = FamilyVector.scalarCount
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 72 * width) { buffer in
            let d = buffer.baseAddress!  // a gathered 6×6 patch (border tiles), [36][lanes]
            let t = d + 36 * width  // Bᵀ d, [36][lanes]
            for i in 0..<count {
                let tile = first + i
                let n = tile / perImage
                let ty = (tile % perImage) / w.tilesW
                let tx = tile % w.tilesW
                let y0 = 4 * ty - g.padTop
                let x0 = 4 * tx - g.padLeft
                let patch = InputPatch(
                    image: w.input + n * g.inHeight * g.inWidth * cin, y0: y0, x0: x0, height: g.inHeight,
                    width: g.inWidth, channels: cin,
                    interior: y0 >= 0 && y0 + 5 < g.inHeight && x0 >= 0 && x0 + 5 < g.inWidth)
                let out = v + i * cin
                var cb = 0
                while cb + width <= cin {
                    inputBlock(FamilyVector.self, patch, cb, width, d, t, out, w.vStride)
                    cb += width
                }
                if width > 8 && cb + 8 <= cin {
                    inputBlock(SIMD8<Float>.self, patch, cb, 8, d, t, out, w.vStride)
                    cb += 8
                }
                if width > 4 && cb + 4 <= cin {
                    inputBlock(SIMD4<Float>.self, patch, cb, 4, d, t, out, w.vStride)
                    cb += 4
                }
                if cb < cin { inputBlock(SIMD4<Float>.self, patch, cb, cin - cb, d, t, out, w.vStride) }
            }
        }
    }

    /// Where one tile's 6×6 input patch lies.
    struct InputPatch {
        var image: UnsafePointer<Float>
        var y0: Int
        var x0: Int
        var height: Int
        var width: Int
        var channels: Int
        /// The whole patch is inside the image: read it in place, no bounds checks.
        var interior: Bool
    }

    /// One tile's channels `cb ..< cb + lanes` (lanes ≤ U's width) through Bᵀ d B, stored at `out + e·vStride + cb`.
    @inline(__always)
    static func inputBlock<U: SIMD>(
        _: U.Type, _ p: InputPatch, _ cb: Int, _ lanes: Int, _ d: UnsafeMutablePointer<Float>,
        _ t: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ vStride: Int
    ) where U.Scalar == Float {
        let full = lanes == U.scalarCount
        let w = U.scalarCount
        var src: UnsafePointer<Float>
        var rowStride: Int
        var colStride: Int
        if p.interior && full {
            src = p.image + (p.y0 * p.width + p.x0) * p.channels + cb
            rowStride = p.width * p.channels
            colStride = p.channels
        } else {
            for r in 0..<6 {
                let y = p.y0 + r
                for c in 0..<6 {
                    let x = p.x0 + c
                    var value = U()
                    if y >= 0 && y < p.height && x >= 0 && x < p.width {
                        value = loadLanes(p.image + (y * p.width + x) * p.channels + cb, lanes)
                    }
                    storeLanes(value, d + (r * 6 + c) * w, w)
                }
            }
            src = UnsafePointer(d)
            rowStride = 6 * w
            colStride = w
        }
        for c in 0..<6 {  // Bᵀ d, column by column
            let s = src + c * colStride
            let o = inputTransform(
                loadLanes(s, w) as U, loadLanes(s + rowStride, w), loadLanes(s + 2 * rowStride, w),
                loadLanes(s + 3 * rowStride, w), loadLanes(s + 4 * rowStride, w), loadLanes(s + 5 * rowStride, w))
            storeLanes(o.0, t + c * w, w)
            storeLanes(o.1, t + (6 + c) * w, w)
            storeLanes(o.2, t + (12 + c) * w, w)
            storeLanes(o.3, t + (18 + c) * w, w)
            storeLanes(o.4, t + (24 + c) * w, w)
            storeLanes(o.5, t + (30 + c) * w, w)
        }
        for r in 0..<6 {  // (Bᵀ d) B, row by row
            let s = UnsafePointer(t + r * 6 * w)
            let o = inputTransform(
                loadLanes(s, w) as U, loadLanes(s + w, w), loadLanes(s + 2 * w, w), loadLanes(s + 3 * w, w),
                loadLanes(s + 4 * w, w), loadLanes(s + 5 * w, w))
            let dst = out + r * 6 * vStride + cb
            storeLanes(o.0, dst, lanes)
            storeLanes(o.1, dst + vStride, lanes)
            storeLanes(o.2, dst + 2 * vStride, lanes)
            storeLanes(o.3, dst + 3 * vStride, lanes)
            storeLanes(o.4, dst + 4 * vStride, lanes)
            storeLanes(o.5, dst + 5 * vStride, lanes)
        }
    }

    /// Bᵀ applied to one column (or row) of six.
    @inline(__always)
    static func inputTransform<U: SIMD>(_ d0: U, _ d1: U, _ d2: U, _ d3: U, _ d4: U, _ d5: U) -> (U, U, U, U, U, U)
    where U.Scalar == Float {
        var o0 = d4
        madd(&o0, d2, U(repeating: -5))
        madd(&o0, d0, U(repeating: 4))  // 4d0 − 5d2 + d4
        var o5 = d5
        madd(&o5, d3, U(repeating: -5))
        madd(&o5, d1, U(repeating: 4))  // 4d1 − 5d3 + d5
        var a = d4
        madd(&a, d2, U(repeating: -4))  // d4 − 4d2
        var b = d3
        madd(&b, d1, U(repeating: -4))  // d3 − 4d1
        let c = d4 - d2
        let e = (d3 - d1) * 2
        return (o0, a + b, a - b, c + e, c - e, o5)
    }

    /// Y = Aᵀ m A + bias per tile and channel block, stored; then, per output pixel, the activation (and the
    /// residual) over the channel range in a second pass, as in F(2×2) (`WinogradKernel.transformOutput`).
    static func transformOutput<Op: PointwiseOp>(_ op: Op.Type, _ w: WinogradTiles, _ a: WinogradOutput) {
        let (first, count, m, output, outputStride) = (a.first, a.count, a.products, a.output, a.outputStride)
        let channels = a.channels
        let cout = w.geometry.outChannels
        let width = FamilyVector.scalarCount
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 24 * width) { sBuffer in
            withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: 16) { dstBuffer in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: 16) { pixelBuffer in
                    let s = sBuffer.baseAddress!
                    let dst = dstBuffer.baseAddress!
                    let pixels = pixelBuffer.baseAddress!
                    for i in 0..<count {
                        for k in 0..<16 {
                            pixels[k] = 0
                            if a.tileOrder {
                                dst[k] = output + (i * 16 + k) * outputStride
                            } else if let p = WinogradKernel.pixel(w, tile: first + i, k: k, size: 4) {
                                dst[k] = output + p * outputStride
                                pixels[k] = p
                            } else {
                                dst[k] = nil
                            }
                        }
                        let tileProducts = UnsafePointer(m + i * cout)
                        var cb = channels.lowerBound
                        while cb + width <= channels.upperBound {
                            outputBlock(FamilyVector.self, tileProducts, w, cb, width, s, dst)
                            cb += width
                        }
                        if width > 8 && cb + 8 <= channels.upperBound {
                            outputBlock(SIMD8<Float>.self, tileProducts, w, cb, 8, s, dst)
                            cb += 8
                        }
                        if width > 4 && cb + 4 <= channels.upperBound {
                            outputBlock(SIMD4<Float>.self, tileProducts, w, cb, 4, s, dst)
                            cb += 4
                        }
                        if cb < channels.upperBound {
                            outputBlock(SIMD4<Float>.self, tileProducts, w, cb, channels.upperBound - cb, s, dst)
                        }
                        for k in 0..<16 {
                            guard let d = dst[k] else { continue }
                            finishPixel(
                                Op.self, d + channels.lowerBound, channels.count,
                                a.residual.map { $0 + pixels[k] * a.residualStride + channels.lowerBound })
                        }
                    }
                }
            }
        }
    }

    /// The activation in place over one pixel's channel range, then the residual added.
    @inline(__always)
    static func finishPixel<Op: PointwiseOp>(
        _ op: Op.Type, _ segment: UnsafeMutablePointer<Float>, _ count: Int, _ residual: UnsafePointer<Float>?
    ) {
        KernelActivation.map(Op.self, segment, count, nil)
        guard let r = residual else { return }
        var c = 0
        while c + 16 <= count {
            storeVector(loadVector(segment + c) + loadVector(r + c), segment + c)
            c += 16
        }
        while c < count {
            segment[c] += r[c]
            c += 1
        }
    }

    /// One tile's output channels `cb ..< cb + lanes`: Aᵀ m A + bias into the 16 pixels of `dst` (nil past the edge).
    @inline(__always)
    static func outputBlock<U: SIMD>(
        _: U.Type, _ products: UnsafePointer<Float>, _ w: WinogradTiles, _ cb: Int, _ lanes: Int,
        _ s: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    ) where U.Scalar == Float {
        let width = U.scalarCount
        let mStride = w.mStride
        let base = products + cb
        @inline(__always) func at(_ e: Int) -> U { loadLanes(base + e * mStride, lanes) }
        for j in 0..<6 {  // Aᵀ m, column by column
            let o = outputTransform(at(j), at(6 + j), at(12 + j), at(18 + j), at(24 + j), at(30 + j))
            storeLanes(o.0, s + j * width, width)
            storeLanes(o.1, s + (6 + j) * width, width)
            storeLanes(o.2, s + (12 + j) * width, width)
            storeLanes(o.3, s + (18 + j) * width, width)
        }
        let bias: U = loadLanes(w.bias + cb, width)
        for r in 0..<4 {  // (Aᵀ m) A, row by row
            let row = UnsafePointer(s + r * 6 * width)
            let o = outputTransform(
                loadLanes(row, width) as U, loadLanes(row + width, width), loadLanes(row + 2 * width, width),
                loadLanes(row + 3 * width, width), loadLanes(row + 4 * width, width), loadLanes(row + 5 * width, width))
            if let d = dst[r * 4] { storeLanes(o.0 + bias, d + cb, lanes) }
            if let d = dst[r * 4 + 1] { storeLanes(o.1 + bias, d + cb, lanes) }
            if let d = dst[r * 4 + 2] { storeLanes(o.2 + bias, d + cb, lanes) }
            if let d = dst[r * 4 + 3] { storeLanes(o.3 + bias, d + cb, lanes) }
        }
    }

    /// Aᵀ applied to one column (or row) of six.
    @inline(__always)
    static func outputTransform<U: SIMD>(_ m0: U, _ m1: U, _ m2: U, _ m3: U, _ m4: U, _ m5: U) -> (U, U, U, U)
    where U.Scalar == Float {
        let a = m1 + m2
        let b = m1 - m2
        let c = m3 + m4
        let d = m3 - m4
        var o1 = b
        madd(&o1, d, U(repeating: 2))
        var o2 = a
        madd(&o2, c, U(repeating: 4))
        var o3 = b + m5
        madd(&o3, d, U(repeating: 8))
        return (m0 + a + c, o1, o2, o3)
    }

    static func output(_ w: WinogradTiles, _ activation: KernelActivation, _ a: WinogradOutput) {
        switch activation {
        case .none: transformOutput(IdentityOp.self, w, a)
        case .silu: transformOutput(SiluOp.self, w, a)
        case .relu: transformOutput(ReluOp.self, w, a)
        case .relu6: transformOutput(Relu6Op.self, w, a)
        case .sigmoid: transformOutput(SigmoidOp.self, w, a)
        case .hardswish: transformOutput(HardSwishOp.self, w, a)
        case .hardsigmoid: transformOutput(HardSigmoidOp.self, w, a)
        }
    }
}

/// Loads `n` (≤ U's width) floats at `p`, zero in the other lanes; a whole vector as one unaligned load.
@inline(__always)
func loadLanes<U: SIMD>(_ p: UnsafePointer<Float>, _ n: Int) -> U where U.Scalar == Float {
    if n == U.scalarCount { return UnsafeRawPointer(p).loadUnaligned(as: U.self) }
    var v = U()
    for k in 0..<n { v[k] = p[k] }
    return v
}

/// Stores the first `n` (≤ U's width) lanes of `v` at `p`; a whole vector as one unaligned store.
@inline(__always)
func storeLanes<U: SIMD>(_ v: U, _ p: UnsafeMutablePointer<Float>, _ n: Int) where U.Scalar == Float {
    if n == U.scalarCount {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: U.self)
        return
    }
    for k in 0..<n { p[k] = v[k] }
}
