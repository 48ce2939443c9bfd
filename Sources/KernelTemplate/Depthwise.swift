import KernelCore

/// Depthwise convolution over NHWC with the activation and the squeeze-excitation average fused in.
///
/// Each output row of each image is one work item, computed in passes over a few channel blocks (see `run`). For each
/// output pixel the k×k tap addresses are resolved once
/// (a tap in the padding points at a zero row, so there is no bounds check in the loop), then the kernel walks the
/// channels in blocks of 16: input rows and packed weights are both read sequentially, which keeps the hardware
/// prefetchers busy (channel-block-outer order, which strides by a whole pixel, measured 4× slower). The
/// activation is applied in registers (the kernel is specialised per activation) and, when `seSums` is given, the
/// activated outputs are added into per-(image, channel) sums from there: neither needs a second pass.
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
        switch activation {
        case .none: run(IdentityOp.self, input, g, w, output, seSums, sumsPerRow, rows)
        case .relu: run(ReluOp.self, input, g, w, output, seSums, sumsPerRow, rows)
        case .relu6: run(Relu6Op.self, input, g, w, output, seSums, sumsPerRow, rows)
        case .sigmoid: run(SigmoidOp.self, input, g, w, output, seSums, sumsPerRow, rows)
        case .silu: run(SiluOp.self, input, g, w, output, seSums, sumsPerRow, rows)
        case .hardsigmoid: run(HardSigmoidOp.self, input, g, w, output, seSums, sumsPerRow, rows)
        case .hardswish: run(HardSwishOp.self, input, g, w, output, seSums, sumsPerRow, rows)
        }
    }

    /// Adds the activated outputs `y` of one channel block into the SE sums at `sums` (16 floats), in pixel
    /// order; lanes from `valid` on (past the channels) are left out.
    @inline(__always)
    private static func addSums(_ sums: UnsafeMutablePointer<Float>, _ y: SIMD16<Float>, valid: Int) {
        let v = valid == 16 ? y : y.replacing(with: 0, where: laneIndex .>= Int32(valid))
        storeVector(loadVector(sums) + v, sums)
    }

    /// The kernel for one activation: applied to the accumulators in registers before they are stored, and added
    /// into the SE sums from there (a second pass over each pixel's channels cost about 5% of EfficientNetV2-S).
    @inline(__always)
    private static func run<Op: PointwiseOp>(
        _ op: Op.Type, _ input: UnsafePointer<Float>, _ g: NHWCConvGeometry, _ w: DepthwiseWeights,
        _ output: UnsafeMutablePointer<Float>, _ seSums: UnsafeMutablePointer<Float>?, _ sumsPerRow: Bool,
        _ rows: Range<Int>
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
        // A row in passes over a few channel blocks: the input lines four output pixels read and those blocks'
        // weights stay within half of L1, so the next pixels find the columns they share with these and the weights
        // there. One pass over all channels per pixel had a working set of 184 KB at 7×7×1152 with a 5×5 kernel,
        // read from L2 each time (5×5 kernels at 7², 14², 28²: 8–15% faster in passes; results are unchanged, each
        // output is computed in the same order).
        let groupBytes = (kh * (4 * sw + kw) + taps) * 64
        let groupBlocks = max(1, min(blocks, 24 * 1024 / groupBytes))
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: taps) { buffer in
            let tp = buffer.baseAddress!
            for row in rows {
                let n = row / outH
                let oy = row % outH
                let inImage = input + n * g.inHeight * g.inWidth * c
                let sums = seSums.map { $0 + (sumsPerRow ? row : n) * pc }
                for groupStart in stride(from: 0, to: blocks, by: groupBlocks) {
                    let groupEnd = min(blocks, groupStart + groupBlocks)
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
                            var wp = UnsafePointer(w.data.pointer) + groupStart * taps * 16
                            for block in groupStart..<groupEnd {
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
                                let y0 = Op.apply(a0)
                                let y1 = Op.apply(a1)
                                let y2 = Op.apply(a2)
                                let y3 = Op.apply(a3)
                                if block < fullBlocks {
                                    storeVector(y0, out + cb)
                                    storeVector(y1, out + c + cb)
                                    storeVector(y2, out + 2 * c + cb)
                                    storeVector(y3, out + 3 * c + cb)
                                } else {
                                    storePartial(y0, out + cb, tail)
                                    storePartial(y1, out + c + cb, tail)
                                    storePartial(y2, out + 2 * c + cb, tail)
                                    storePartial(y3, out + 3 * c + cb, tail)
                                }
                                if let sums {
                                    let valid = block < fullBlocks ? 16 : tail
                                    addSums(sums + cb, y0, valid: valid)
                                    addSums(sums + cb, y1, valid: valid)
                                    addSums(sums + cb, y2, valid: valid)
                                    addSums(sums + cb, y3, valid: valid)
                                }
                            }
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
                        var wp = UnsafePointer(w.data.pointer) + groupStart * taps * 16
                        for block in groupStart..<groupEnd {
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
                            let y = Op.apply(acc0 + acc1)
                            if block < fullBlocks {
                                storeVector(y, out + cb)
                            } else {
                                storePartial(y, out + cb, tail)
                            }
                            if let sums { addSums(sums + cb, y, valid: block < fullBlocks ? 16 : tail) }
                        }
                        ox += 1
                    }
                }
            }
        }
    }
}
