import KernelCore

/// The input and output transforms of Winograd F(2×2, 3×3) (see `WinogradConv` in the Runtime, which runs the 16
/// GEMMs between them). This file is compiled once per kernel family (symlinked).
enum WinogradKernel {
    /// V[e][i][c] = (Bᵀ d B)[e] for the block's tiles, 16 channels at a time; pixels outside the image are zero.
    static func transformInput(_ w: WinogradTiles, first: Int, count: Int, into v: UnsafeMutablePointer<Float>) {
        let g = w.geometry
        let (tilesH, tilesW, vStride, input) = (w.tilesH, w.tilesW, w.vStride, w.input)
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
    static func transformOutput<Op: PointwiseOp>(_ op: Op.Type, _ w: WinogradTiles, _ a: WinogradOutput) {
        let (first, count, m, output, outputStride) = (a.first, a.count, a.products, a.output, a.outputStride)
        let (residual, residualStride, channels, tileOrder) = (a.residual, a.residualStride, a.channels, a.tileOrder)
        let cout = w.geometry.outChannels
        let mStride = w.mStride
        let width = channels.count
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: 4) { dstBuffer in
            let dst = dstBuffer.baseAddress!
            for i in 0..<count {
                var pixels = (0, 0, 0, 0)
                for k in 0..<4 {
                    if tileOrder {
                        dst[k] = output + (i * 4 + k) * outputStride
                    } else if let p = pixel(w, tile: first + i, k: k, size: 2) {
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
                    let b = loadVector(w.bias + cb)
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

    /// `WinogradTiles.pixel`, inlined here (from KernelCore it was a call per tile position): the output pixel of
    /// position `k` of tile `tile` for `size`×`size` output tiles (2 here, 4 in `Winograd4Kernel`), or nil past the
    /// image edge.
    @inline(__always)
    static func pixel(_ w: WinogradTiles, tile: Int, k: Int, size: Int) -> Int? {
        let perImage = w.tilesH * w.tilesW
        let n = tile / perImage
        let ty = (tile % perImage) / w.tilesW
        let tx = tile % w.tilesW
        let y = size * ty + k / size
        let x = size * tx + k % size
        if y >= w.geometry.outHeight || x >= w.geometry.outWidth { return nil }
        return (n * w.geometry.outHeight + y) * w.geometry.outWidth + x
    }
}
