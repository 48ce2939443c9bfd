import KernelCore

/// An indirection buffer for implicit GEMM: for every output pixel and tap, the address of the input pixel the tap
/// reads (channels contiguous), or of a zero row when the tap falls in the padding.
///
/// Built once per plan, because the arena's addresses are fixed: M × taps pointers (V2-S's stem at 384: 36,864 ×
/// 9 × 8 B = 2.6 MB). No im2col copy of the input is ever made.
package final class IndirectionTable: @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<UnsafePointer<Float>>
    package let count: Int

    /// `input` is NHWC with row stride `inputStride` floats (≥ inChannels); `zero` holds at least inChannels zeros.
    package init(
        geometry g: NHWCConvGeometry, input: UnsafePointer<Float>, inputStride: Int, zero: UnsafePointer<Float>
    ) {
        count = g.outPixels * g.taps
        pointer = .allocate(capacity: max(count, 1))
        var i = 0
        for n in 0..<g.batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                            if iy >= 0 && iy < g.inHeight && ix >= 0 && ix < g.inWidth {
                                pointer[i] = input + ((n * g.inHeight + iy) * g.inWidth + ix) * inputStride
                            } else {
                                pointer[i] = zero
                            }
                            i += 1
                        }
                    }
                }
            }
        }
    }

    deinit { pointer.deallocate() }
}

/// A dense (group 1) convolution over NHWC through the GEMM: direct rows for pointwise convolutions, an
/// indirection table otherwise.
package final class DenseConv: @unchecked Sendable {
    package let geometry: NHWCConvGeometry
    package let weights: PackedWeights
    private let rows: GEMMRows
    private let table: IndirectionTable?
    private let zero: FloatBuffer?

    /// Binds the convolution to its input buffer (NHWC, `inputStride` floats per pixel).
    package init(geometry: NHWCConvGeometry, weights: PackedWeights, input: UnsafePointer<Float>, inputStride: Int) {
        precondition(weights.taps == geometry.taps && weights.inputChannels == geometry.inChannels)
        self.geometry = geometry
        self.weights = weights
        if geometry.isPointwise {
            rows = .direct(base: input, stride: inputStride)
            table = nil
            zero = nil
        } else {
            let zero = FloatBuffer(count: geometry.inChannels)
            let table = IndirectionTable(geometry: geometry, input: input, inputStride: inputStride, zero: zero.pointer)
            rows = .indirect(table: UnsafePointer(table.pointer))
            self.table = table
            self.zero = zero
        }
    }

    /// Output pixels `firstPixel ..< firstPixel + pixels` on the calling thread into `out` (row 0 = firstPixel,
    /// `outputStride` floats per row): one block of a depth-first fused pipeline.
    package func computeBlock(
        firstPixel: Int, pixels: Int, into out: UnsafeMutablePointer<Float>, outputStride: Int,
        activation: KernelActivation
    ) {
        let shiftedRows: GEMMRows
        switch rows {
        case .direct(let base, let stride): shiftedRows = .direct(base: base + firstPixel * stride, stride: stride)
        case .indirect(let t): shiftedRows = .indirect(table: t + firstPixel * geometry.taps)
        }
        GEMM.compute(
            GEMM.Problem(
                rows: shiftedRows, m: pixels, weights: weights, c: out, ldc: outputStride, activation: activation))
    }

    /// out[m, n] = act(conv + bias) + residual[m, n], NHWC with `outputStride` / `residualStride` floats per pixel.
    /// `pixels` limits the rows (e.g. one image of a batch, starting at `firstPixel`).
    package func run(
        output: UnsafeMutablePointer<Float>, outputStride: Int, activation: KernelActivation,
        residual: UnsafePointer<Float>? = nil, residualStride: Int = 0, packedOverride: UnsafePointer<Float>? = nil,
        firstPixel: Int = 0, pixels: Int? = nil, pool: WorkerPool?
    ) {
        let m = pixels ?? geometry.outPixels
        let shiftedRows: GEMMRows
        switch rows {
        case .direct(let base, let stride): shiftedRows = .direct(base: base + firstPixel * stride, stride: stride)
        case .indirect(let t): shiftedRows = .indirect(table: t + firstPixel * geometry.taps)
        }
        GEMM.run(
            GEMM.Problem(
                rows: shiftedRows, m: m, weights: weights, packedOverride: packedOverride,
                c: output + firstPixel * outputStride, ldc: outputStride, activation: activation,
                residual: residual.map { $0 + firstPixel * residualStride }, ldr: residualStride),
            pool: pool)
    }
}
