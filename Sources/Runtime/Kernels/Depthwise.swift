/// Depthwise k×k convolution weights in channel blocks: `data[(block · taps + tap) · 16 + lane]` for channel
/// block · 16 + lane, so that the kernel streams one block's k×k weight vectors contiguously; bias padded to 16.
package final class DepthwiseWeights: @unchecked Sendable {
    package let channels: Int
    package let paddedChannels: Int
    package let kernelHeight: Int
    package let kernelWidth: Int
    package let data: FloatBuffer
    package let bias: FloatBuffer
    /// Zeros where taps in the padding point: one pixel's worth, or a whole padded row segment for the
    /// four-pixel path (3·stride + kw pixels, stride ≤ 2).
    package let zero: FloatBuffer
    package var taps: Int { kernelHeight * kernelWidth }

    /// From ONNX Conv weights `[C, 1, kh, kw]` (group = C).
    package init(weights w: [Float], shape: [Int], bias: [Float]?) {
        precondition(shape.count == 4 && shape[1] == 1 && w.count == shape.reduce(1, *))
        channels = shape[0]
        kernelHeight = shape[2]
        kernelWidth = shape[3]
        paddedChannels = (channels + 15) / 16 * 16
        let taps = kernelHeight * kernelWidth
        data = FloatBuffer(count: taps * paddedChannels)
        self.bias = FloatBuffer(count: paddedChannels)
        zero = FloatBuffer(count: (6 + kernelWidth) * channels + paddedChannels)
        for c in 0..<channels {
            for t in 0..<taps { data.pointer[((c / 16) * taps + t) * 16 + c % 16] = w[c * taps + t] }
            if let bias { self.bias.pointer[c] = bias[c] }
        }
    }
}

/// Depthwise convolution over NHWC with the activation and the squeeze-excitation average fused in.
///
/// Each output row of each image is one work item. For each output pixel the k×k tap addresses are resolved once
/// (a tap in the padding points at a zero row, so there is no bounds check in the loop), then the kernel walks the
/// channels in blocks of 16: input rows and packed weights are both read sequentially, which keeps the hardware
/// prefetchers busy (channel-block-outer order, which strides by a whole pixel, measured 4× slower). When `seSums`
/// is given, the activated outputs are added into per-(image, channel) sums while in registers: SE's global
/// average needs no second pass over the tensor.
package enum Depthwise {
    /// Computes output rows `rows` (indices into batch × outHeight). `seSums` (zeroed by the caller) receives the
    /// per-channel sums of this call's rows: per image (batch × paddedChannels) or, with `sumsPerRow`, per row
    /// (rows × paddedChannels). Reads up to 15 floats past a pixel's last channel (buffers carry slack; see
    /// `FloatBuffer`).
    package static func run(
        input: UnsafePointer<Float>, geometry g: NHWCConvGeometry, weights w: DepthwiseWeights,
        output: UnsafeMutablePointer<Float>, activation: KernelActivation, seSums: UnsafeMutablePointer<Float>?,
        sumsPerRow: Bool = false, rows: Range<Int>
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
                                    a0.addProduct(loadVector(p), wv)
                                    a1.addProduct(loadVector(p + step), wv)
                                    a2.addProduct(loadVector(p + 2 * step), wv)
                                    a3.addProduct(loadVector(p + 3 * step), wv)
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
                        for p in 0..<4 { activation.apply(out + p * c, count: c, sums: sums) }
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
                            acc0.addProduct(loadVector(tp[t] + cb), loadVector(wp + t * 16))
                            acc1.addProduct(loadVector(tp[t + 1] + cb), loadVector(wp + t * 16 + 16))
                            t += 2
                        }
                        if t < taps { acc0.addProduct(loadVector(tp[t] + cb), loadVector(wp + t * 16)) }
                        wp += taps * 16
                        if block < fullBlocks {
                            storeVector(acc0 + acc1, out + cb)
                        } else {
                            storePartial(acc0 + acc1, out + cb, tail)
                        }
                    }
                    // Second pass over the pixel's channels while they are in L1 (see `KernelActivation.apply(_:count:sums:)`).
                    activation.apply(out, count: c, sums: sums)
                    ox += 1
                }
            }
        }
    }

    /// The whole batch on `pool`. With SE, each output row's channel sums go to `seScratch` (batch × outHeight ×
    /// paddedChannels) and are then added in row order into `seSums` (batch × paddedChannels): the result does not
    /// depend on how rows were split over threads, so one and two threads give bit-identical outputs.
    package static func run(
        input: UnsafePointer<Float>, geometry g: NHWCConvGeometry, weights w: DepthwiseWeights,
        output: UnsafeMutablePointer<Float>, activation: KernelActivation, seSums: UnsafeMutablePointer<Float>?,
        seScratch: UnsafeMutablePointer<Float>?, pool: WorkerPool?
    ) {
        let rowCount = g.batch * g.outHeight
        let pc = w.paddedChannels
        guard let seSums, let seScratch else {
            precondition(seSums == nil, "SE sums need row scratch")
            let body: (Range<Int>, Int) -> Void = { rows, _ in
                run(
                    input: input, geometry: g, weights: w, output: output, activation: activation, seSums: nil,
                    rows: rows)
            }
            if let pool { pool.parallelFor(rowCount, body) } else { body(0..<rowCount, 0) }
            return
        }
        seScratch.update(repeating: 0, count: rowCount * pc)
        let body: (Range<Int>, Int) -> Void = { rows, _ in
            run(
                input: input, geometry: g, weights: w, output: output, activation: activation, seSums: seScratch,
                sumsPerRow: true, rows: rows)
        }
        if let pool { pool.parallelFor(rowCount, body) } else { body(0..<rowCount, 0) }
        seSums.update(repeating: 0, count: g.batch * pc)
        for row in 0..<rowCount {
            let dst = seSums + (row / g.outHeight) * pc
            let src = seScratch + row * pc
            var c = 0
            while c < pc {
                storeVector(loadVector(dst + c) + loadVector(src + c), dst + c)
                c += 16
            }
        }
    }
}
