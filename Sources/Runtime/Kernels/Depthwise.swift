/// Depthwise k×k convolution weights, channels-last: `data[tap · paddedChannels + c]`, bias padded the same way,
/// so that 16 channels of one tap are one vector load.
package final class DepthwiseWeights: @unchecked Sendable {
    package let channels: Int
    package let paddedChannels: Int
    package let kernelHeight: Int
    package let kernelWidth: Int
    package let data: FloatBuffer
    package let bias: FloatBuffer

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
        for c in 0..<channels {
            for t in 0..<taps { data.pointer[t * paddedChannels + c] = w[c * taps + t] }
            if let bias { self.bias.pointer[c] = bias[c] }
        }
    }
}

/// Depthwise convolution over NHWC with the activation and the squeeze-excitation average fused in.
///
/// Each output row of each image is one work item. Within a row, for each block of 16 channels, the k×k weight
/// vectors stay in registers while the window slides along x; padding is handled by clamping the tap ranges, so
/// there is no padded copy. When `seSums` is given, the activated outputs are summed per (image, channel) while they
/// are in registers: SE's global average needs no second pass over the tensor.
package enum Depthwise {
    /// Computes output rows `rows` (indices into batch × outHeight). `seSums` (batch × paddedChannels floats,
    /// zeroed by the caller) receives the per-channel sums of this call's rows.
    package static func run(
        input: UnsafePointer<Float>, geometry g: ConvGeometry, weights w: DepthwiseWeights,
        output: UnsafeMutablePointer<Float>, activation: Activation, seSums: UnsafeMutablePointer<Float>?,
        rows: Range<Int>
    ) {
        let c = g.inChannels
        let kh = g.kernelHeight, kw = g.kernelWidth
        let outH = g.outHeight, outW = g.outWidth
        let pc = w.paddedChannels
        for row in rows {
            let n = row / outH, oy = row % outH
            let iyBase = oy * g.strideH - g.padTop
            let ky0 = max(0, (-iyBase + g.dilationH - 1) / g.dilationH)
            let ky1 = min(kh, (g.inHeight - iyBase + g.dilationH - 1) / g.dilationH)
            let inImage = input + n * g.inHeight * g.inWidth * c
            let outRow = output + (n * outH + oy) * outW * c
            var cb = 0
            while cb < c {
                let lanes = min(16, c - cb)
                let bias = loadVector(w.bias.pointer + cb)
                var sum = SIMD16<Float>()
                for ox in 0..<outW {
                    let ixBase = ox * g.strideW - g.padLeft
                    let kx0 = max(0, (-ixBase + g.dilationW - 1) / g.dilationW)
                    let kx1 = min(kw, (g.inWidth - ixBase + g.dilationW - 1) / g.dilationW)
                    var acc = bias
                    var ky = ky0
                    while ky < ky1 {
                        let inRow = inImage + ((iyBase + ky * g.dilationH) * g.inWidth + ixBase) * c + cb
                        let wRow = w.data.pointer + ky * kw * pc + cb
                        var kx = kx0
                        if lanes == 16 {
                            while kx < kx1 {
                                acc.addProduct(loadVector(inRow + kx * g.dilationW * c), loadVector(wRow + kx * pc))
                                kx += 1
                            }
                        } else {
                            while kx < kx1 {
                                acc.addProduct(loadPartial(inRow + kx * g.dilationW * c, lanes), loadVector(wRow + kx * pc))
                                kx += 1
                            }
                        }
                        ky += 1
                    }
                    let y = activation.apply(acc)
                    if lanes == 16 {
                        storeVector(y, outRow + ox * c + cb)
                        sum += y
                    } else {
                        storePartial(y, outRow + ox * c + cb, lanes)
                        sum += y.replacing(with: 0, where: SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) .>= Int32(lanes))
                    }
                }
                if let seSums {
                    let s = seSums + n * pc + cb
                    storeVector(loadVector(s) + sum, s)
                }
                cb += 16
            }
        }
    }

    /// The whole batch on `pool`; per-worker SE partial sums live in `seScratch` (threads × batch × paddedChannels)
    /// and are reduced into `seSums` (batch × paddedChannels), which then holds per-channel sums over H × W.
    package static func run(
        input: UnsafePointer<Float>, geometry g: ConvGeometry, weights w: DepthwiseWeights,
        output: UnsafeMutablePointer<Float>, activation: Activation, seSums: UnsafeMutablePointer<Float>?,
        seScratch: UnsafeMutablePointer<Float>?, pool: WorkerPool?
    ) {
        let rowCount = g.batch * g.outHeight
        let slice = g.batch * w.paddedChannels
        let threads = pool?.threadCount ?? 1
        guard let seSums else {
            let body: (Range<Int>, Int) -> Void = { rows, _ in
                run(input: input, geometry: g, weights: w, output: output, activation: activation, seSums: nil, rows: rows)
            }
            if let pool { pool.parallelFor(rowCount, body) } else { body(0..<rowCount, 0) }
            return
        }
        guard let seScratch, threads > 1, let pool else {
            seSums.update(repeating: 0, count: slice)
            run(input: input, geometry: g, weights: w, output: output, activation: activation, seSums: seSums, rows: 0..<rowCount)
            return
        }
        seScratch.update(repeating: 0, count: slice * threads)
        pool.parallelFor(rowCount) { rows, worker in
            run(
                input: input, geometry: g, weights: w, output: output, activation: activation,
                seSums: seScratch + worker * slice, rows: rows)
        }
        seSums.update(repeating: 0, count: slice)
        for t in 0..<threads {
            for i in 0..<slice { seSums[i] += seScratch[t * slice + i] }
        }
    }
}
