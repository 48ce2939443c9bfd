import KernelCore

/// Depthwise convolution over NHWC with the activation and the squeeze-excitation average fused in.
///
/// Each output row of each image is one work item. For each output pixel the k×k tap addresses are resolved once
/// (a tap in the padding points at a zero row, so there is no bounds check in the loop), then the kernel walks the
/// channels in blocks of 16: input rows and packed weights are both read sequentially, which keeps the hardware
/// prefetchers busy (channel-block-outer order, which strides by a whole pixel, measured 4× slower). When `seSums`
/// is given, the activated outputs are added into per-(image, channel) sums while in registers: SE's global
/// average needs no second pass over the tensor.
///
/// This file is compiled once per kernel family (symlinked); `Depthwise.run` in the Runtime splits the rows over
/// threads and calls the active family's copy of this.
enum DepthwiseKernel {
    /// Computes output rows `rows` (indices into batch × outHeight). `seSums` (zeroed by the caller) receives the
    /// per-channel sums of this call's rows: per image (batch × paddedChannels) or, with `sumsPerRow`, per row
    /// (rows × paddedChannels). Reads up to 15 floats past a pixel's last channel (buffers carry slack; see
    /// `FloatBuffer`).
    static func run(
        input: UnsafePointer<Float>, geometry g: NHWCConvGeometry, weights w: DepthwiseWeights,
        output: UnsafeMutablePointer<Float>, activation: KernelActivation, seSums: UnsafeMutablePointer<Float>?,
        sumsPerRow: Bool, rows: Range<Int>
    ) {
        let c = g.inChannels
        let kh = g.kernelHeight
        let kw = g.kernelWidth
        let taps = kh * kw
        let outH = g.outHeight
        let outW = g.outWidth
        let pc = w.paddedChannels
        let fullBlocks = c / 16
        let tail = c - fullBlocks * 16
        let zero = UnsafePointer(w.zero.pointer)
        let blocks = fullBlocks + (tail > 0 ? 1 : 0)
        // Columns whose taps are all inside the image, for the four-pixel path (dilation 1, stride ≤ 2).
        let sw = g.strideW
        let grouped = g.dilationW == 1 && g.dilationH == 1 && sw <= 2
        let interiorStart = min(outW, (g.padLeft + sw - 1) / sw)
        let lastStart = g.inWidth - kw + g.padLeft
        let interiorEnd = lastStart < 0 ? interiorStart : max(interiorStart, min(outW, lastStart / sw + 1))
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: taps) { buffer in
            let tp = buffer.baseAddress!
            for row in rows {
                let n = row / outH
                let oy = row % outH
                let inImage = input + n * g.inHeight * g.inWidth * c
                let sums = seSums.map { $0 + (sumsPerRow ? row : n) * pc }
                var ox = 0
                while ox < outW {
                    if grouped && ox >= interiorStart && ox + 4 <= interiorEnd {
                        // Four adjacent output pixels: each weight vector load feeds four FMAs, the four chains hide
                        // the FMA latency, and the overlapping input columns hit L1.
                        for ky in 0..<kh {
                            let iy = oy * g.strideH - g.padTop + ky
                            tp[ky] =
                                iy >= 0 && iy < g.inHeight ? inImage + (iy * g.inWidth + ox * sw - g.padLeft) * c : zero
                        }
                        let out = output + ((n * outH + oy) * outW + ox) * c
                        let step = sw * c
                        var wp = UnsafePointer(w.data.pointer)
                        for block in 0..<blocks {
                            let cb = block * 16
                            let b = loadVector(w.bias.pointer + cb)
                            var a0 = b
                            var a1 = b
                            var a2 = b
                            var a3 = b
                            for ky in 0..<kh {
                                let r = tp[ky] + cb
                                let wk = wp + ky * kw * 16
                                for kx in 0..<kw {
                                    let wv = loadVector(wk + kx * 16)
                                    let p = r + kx * c
                                    madd(&a0, loadVector(p), wv)
                                    madd(&a1, loadVector(p + step), wv)
                                    madd(&a2, loadVector(p + 2 * step), wv)
                                    madd(&a3, loadVector(p + 3 * step), wv)
                                }
                            }
                            wp += taps * 16
                            if block < fullBlocks {
                                storeVector(a0, out + cb)
                                storeVector(a1, out + c + cb)
                                storeVector(a2, out + 2 * c + cb)
                                storeVector(a3, out + 3 * c + cb)
                            } else {
                                storePartial(a0, out + cb, tail)
                                storePartial(a1, out + c + cb, tail)
                                storePartial(a2, out + 2 * c + cb, tail)
                                storePartial(a3, out + 3 * c + cb, tail)
                            }
                        }
                        for p in 0..<4 { activationMap(activation, out + p * c, count: c, sums: sums) }
                        ox += 4
                        continue
                    }
                    for ky in 0..<kh {
                        let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                        for kx in 0..<kw {
                            let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                            tp[ky * kw + kx] =
                                iy >= 0 && iy < g.inHeight && ix >= 0 && ix < g.inWidth
                                ? inImage + (iy * g.inWidth + ix) * c : zero
                        }
                    }
                    let out = output + ((n * outH + oy) * outW + ox) * c
                    var wp = UnsafePointer(w.data.pointer)
                    for block in 0..<blocks {
                        let cb = block * 16
                        var acc0 = loadVector(w.bias.pointer + cb)
                        var acc1 = SIMD16<Float>()
                        var t = 0
                        while t + 1 < taps {
                            madd(&acc0, loadVector(tp[t] + cb), loadVector(wp + t * 16))
                            madd(&acc1, loadVector(tp[t + 1] + cb), loadVector(wp + t * 16 + 16))
                            t += 2
                        }
                        if t < taps { madd(&acc0, loadVector(tp[t] + cb), loadVector(wp + t * 16)) }
                        wp += taps * 16
                        if block < fullBlocks {
                            storeVector(acc0 + acc1, out + cb)
                        } else {
                            storePartial(acc0 + acc1, out + cb, tail)
                        }
                    }
                    // Second pass over the pixel's channels while they are in L1 (see `KernelActivation.map`).
                    activationMap(activation, out, count: c, sums: sums)
                    ox += 1
                }
            }
        }
    }
}
