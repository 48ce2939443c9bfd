import KernelCore

/// Depthwise convolution over NHWC with the activation and the squeeze-excitation average fused in.
///
/// Each output row of each image is one work item. For each output pixel the k×k tap addresses are resolved once
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

    /// Adds the kh×kw window of four adjacent output pixels (`step` floats apart in the input) for one block of 16
    /// channels into `a0…a3`, in (ky, kx) order: `rows[ky]` is window row ky's first input pixel (or the zero row),
    /// `wp` the block's packed taps. Called with constant sizes where it matters, so the loops unroll.
    @inline(__always)
    private static func fourPixelTaps(
        _ a0: inout SIMD16<Float>, _ a1: inout SIMD16<Float>, _ a2: inout SIMD16<Float>, _ a3: inout SIMD16<Float>,
        _ rows: UnsafeMutablePointer<UnsafePointer<Float>>, _ cb: Int, _ wp: UnsafePointer<Float>, kh: Int, kw: Int,
        c: Int, step: Int
    ) {
        for ky in 0..<kh {
            let r = rows[ky] + cb
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
    }

    /// The kernel for one activation: applied to the accumulators in registers before they are stored, and added
    /// into the SE sums from there (a second pass over each pixel's channels cost about 5% of EfficientNetV2-S).
    ///
    /// Each output row is swept once per group of four channel blocks (64 channels): the group's k input rows then
    /// stay in L1 (5 rows × 28 pixels × 256 bytes = 35 KB), where sweeping all channels pixel by pixel read every
    /// tap of a 7×7×1152 or 14×14×672 map from L2. The SE sums still receive each channel's pixels in row order.
    ///
    /// Not inlined into `run(input:…)`: each activation's specialisation stays its own function (one call per range
    /// of rows). Inlined, the seven copies made one function on which the SIL optimizer's COW-array pass alone spent
    /// about 32 s per kernel family (KernelsScalar compiled in 70 s, 18 s without it).
    @inline(never)
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
        let weights = UnsafePointer(w.data.pointer)
        let blockStride = taps * 16
        let groupBlocks = 4
        // Columns whose taps are all inside the image, for the four-pixel path (dilation 1, stride ≤ 2).
        let sw = g.strideW
        let grouped = g.dilationW == 1 && g.dilationH == 1 && sw <= 2
        let interiorStart = min(outW, (g.padLeft + sw - 1) / sw)
        let lastStart = g.inWidth - kw + g.padLeft
        let interiorEnd = lastStart < 0 ? interiorStart : max(interiorStart, min(outW, lastStart / sw + 1))
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: kh) { rowBuffer in
            // Per output row, for each pixel outside the four-pixel path: its in-image taps (input offset within
            // the image, weight offset within a block) and their count.
            withUnsafeTemporaryAllocation(of: Int.self, capacity: outW * (2 * taps + 1)) { tableBuffer in
                let tp = rowBuffer.baseAddress!
                let tapOffset = tableBuffer.baseAddress!
                let tapWeight = tapOffset + outW * taps
                let tapCount = tapWeight + outW * taps
                for row in rows {
                    let n = row / outH
                    let oy = row % outH
                    let inImage = input + n * g.inHeight * g.inWidth * c
                    let sums = seSums.map { $0 + (sumsPerRow ? row : n) * pc }
                    var ox = 0
                    while ox < outW {
                        if grouped && ox >= interiorStart && ox + 4 <= interiorEnd {
                            ox += 4
                            continue
                        }
                        var count = 0
                        let base = ox * taps
                        for ky in 0..<kh {
                            let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                            guard iy >= 0 && iy < g.inHeight else { continue }
                            for kx in 0..<kw {
                                let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                                guard ix >= 0 && ix < g.inWidth else { continue }
                                tapOffset[base + count] = (iy * g.inWidth + ix) * c
                                tapWeight[base + count] = (ky * kw + kx) * 16
                                count += 1
                            }
                        }
                        tapCount[ox] = count
                        ox += 1
                    }
                    var firstBlock = 0
                    while firstBlock < blocks {
                        let endBlock = min(firstBlock + groupBlocks, blocks)
                        ox = 0
                        while ox < outW {
                            if grouped && ox >= interiorStart && ox + 4 <= interiorEnd {
                                // Four adjacent output pixels: each weight vector load feeds four FMAs, the four
                                // chains hide the FMA latency, and the overlapping input columns hit L1.
                                for ky in 0..<kh {
                                    let iy = oy * g.strideH - g.padTop + ky
                                    tp[ky] =
                                        iy >= 0 && iy < g.inHeight
                                        ? inImage + (iy * g.inWidth + ox * sw - g.padLeft) * c : zero
                                }
                                let out = output + ((n * outH + oy) * outW + ox) * c
                                let step = sw * c
                                for block in firstBlock..<endBlock {
                                    let cb = block * 16
                                    let wp = weights + block * blockStride
                                    let b = loadVector(w.bias.pointer + cb)
                                    var a0 = b
                                    var a1 = b
                                    var a2 = b
                                    var a3 = b
                                    // EfficientNets' 3×3 and 5×5 windows with constant sizes, so that the tap loops
                                    // unroll: with run-time sizes each window row reloaded its pointers from the
                                    // stack and looped 1.5 times (the 3×3 kernel ran at a third of its FMA rate).
                                    if kh == 3 && kw == 3 {
                                        fourPixelTaps(&a0, &a1, &a2, &a3, tp, cb, wp, kh: 3, kw: 3, c: c, step: step)
                                    } else if kh == 5 && kw == 5 {
                                        fourPixelTaps(&a0, &a1, &a2, &a3, tp, cb, wp, kh: 5, kw: 5, c: c, step: step)
                                    } else {
                                        fourPixelTaps(&a0, &a1, &a2, &a3, tp, cb, wp, kh: kh, kw: kw, c: c, step: step)
                                    }
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
                            // One pixel whose window crosses the image edge (or a layout the four-pixel path does
                            // not take), over its in-image taps only (a 5×5 window at a corner has 9 of 25). A
                            // whole group runs at once: four independent chains hide the multiply-add latency and
                            // each tap's offsets are loaded once for the four blocks (one block with two chains
                            // was latency-bound, and on a 7×7 map every pixel of a 5×5 window comes here).
                            let out = output + ((n * outH + oy) * outW + ox) * c
                            let count = tapCount[ox]
                            let offsets = tapOffset + ox * taps
                            let weightOffsets = tapWeight + ox * taps
                            if endBlock - firstBlock == 4 && endBlock <= fullBlocks {
                                let cb = firstBlock * 16
                                var a0 = loadVector(w.bias.pointer + cb)
                                var a1 = loadVector(w.bias.pointer + cb + 16)
                                var a2 = loadVector(w.bias.pointer + cb + 32)
                                var a3 = loadVector(w.bias.pointer + cb + 48)
                                let w0 = weights + firstBlock * blockStride
                                let image = inImage + cb
                                for t in 0..<count {
                                    let p = image + offsets[t]
                                    let wt = w0 + weightOffsets[t]
                                    madd(&a0, loadVector(p), loadVector(wt))
                                    madd(&a1, loadVector(p + 16), loadVector(wt + blockStride))
                                    madd(&a2, loadVector(p + 32), loadVector(wt + 2 * blockStride))
                                    madd(&a3, loadVector(p + 48), loadVector(wt + 3 * blockStride))
                                }
                                let y0 = Op.apply(a0)
                                let y1 = Op.apply(a1)
                                let y2 = Op.apply(a2)
                                let y3 = Op.apply(a3)
                                storeVector(y0, out + cb)
                                storeVector(y1, out + cb + 16)
                                storeVector(y2, out + cb + 32)
                                storeVector(y3, out + cb + 48)
                                if let sums {
                                    addSums(sums + cb, y0, valid: 16)
                                    addSums(sums + cb + 16, y1, valid: 16)
                                    addSums(sums + cb + 32, y2, valid: 16)
                                    addSums(sums + cb + 48, y3, valid: 16)
                                }
                            } else {
                                for block in firstBlock..<endBlock {
                                    let cb = block * 16
                                    let w0 = weights + block * blockStride
                                    let image = inImage + cb
                                    var acc0 = loadVector(w.bias.pointer + cb)
                                    var acc1 = SIMD16<Float>()
                                    var t = 0
                                    while t + 1 < count {
                                        madd(&acc0, loadVector(image + offsets[t]), loadVector(w0 + weightOffsets[t]))
                                        madd(
                                            &acc1, loadVector(image + offsets[t + 1]),
                                            loadVector(w0 + weightOffsets[t + 1]))
                                        t += 2
                                    }
                                    if t < count {
                                        madd(&acc0, loadVector(image + offsets[t]), loadVector(w0 + weightOffsets[t]))
                                    }
                                    let y = Op.apply(acc0 + acc1)
                                    if block < fullBlocks {
                                        storeVector(y, out + cb)
                                    } else {
                                        storePartial(y, out + cb, tail)
                                    }
                                    if let sums { addSums(sums + cb, y, valid: block < fullBlocks ? 16 : tail) }
                                }
                            }
                            ox += 1
                        }
                        firstBlock = endBlock
                    }
                }
            }
        }
    }
}
