import KernelCore
import KernelsScalar

#if arch(x86_64)
    import KernelsAVX2
    import KernelsAVX512
#elseif arch(arm64)
    import KernelsNEON
#endif

/// The kernel family in use, resolved once per process (`KernelFamily.active`: `EFFNET_ISA` or the best family the
/// CPU supports), and the tables of the others for tests that compare families.
package enum KernelDispatch {
    /// The active family's kernels.
    package static let table: KernelTable = make(KernelFamily.active)

    /// The kernels of `family`, which must be one the CPU supports (`KernelFamily.supported`).
    package static func table(for family: KernelFamily) -> KernelTable {
        family == table.family ? table : make(family)
    }

    private static func make(_ family: KernelFamily) -> KernelTable {
        precondition(KernelFamily.supported.contains(family), "kernel family \(family) is not supported by this CPU")
        switch family {
        #if arch(x86_64)
            case .avx512: return KernelsAVX512.kernelTable()
            case .avx2: return KernelsAVX2.kernelTable()
        #elseif arch(arm64)
            case .neon: return KernelsNEON.kernelTable()
        #endif
        default: return KernelsScalar.kernelTable()
        }
    }
}

extension KernelActivation {
    /// Applies the activation in place to `count` floats (the active family's kernel).
    package func apply(_ p: UnsafeMutablePointer<Float>, count: Int) { apply(p, count: count, sums: nil) }

    /// Applies the activation in place to `count` floats and, when `sums` is given, adds the results into
    /// `sums[0..<count]` (rounded up to 16: the squeeze-excitation channel sums).
    package func apply(_ p: UnsafeMutablePointer<Float>, count: Int, sums: UnsafeMutablePointer<Float>?) {
        KernelDispatch.table.activation(self, p, count, sums)
    }
}

/// Depthwise convolution over NHWC with the activation and the squeeze-excitation average fused in (the kernel is
/// `DepthwiseKernel` in `Sources/KernelTemplate`, compiled per family).
///
/// Each output row of each image is one work item. For each output pixel the k×k tap addresses are resolved once
/// (a tap in the padding points at a zero row, so there is no bounds check in the loop), then the kernel walks the
/// channels in blocks of 16. When `seSums` is given, the activated outputs are added into per-(image, channel)
/// sums while in registers: SE's global average needs no second pass over the tensor.
package enum Depthwise {
    /// Computes output rows `rows` (indices into batch × outHeight). `seSums` (zeroed by the caller) receives the
    /// per-channel sums of this call's rows: per image (batch × paddedChannels) or, with `sumsPerRow`, per row
    /// (rows × paddedChannels). Reads up to 15 floats past a pixel's last channel (buffers carry slack; see
    /// `FloatBuffer`).
    package static func run(
        input: UnsafePointer<Float>, geometry g: NHWCConvGeometry, weights w: DepthwiseWeights,
        output: UnsafeMutablePointer<Float>, activation: KernelActivation, seSums: UnsafeMutablePointer<Float>?,
        sumsPerRow: Bool = false, rows: Range<Int>, kernels: KernelTable = KernelDispatch.table
    ) {
        kernels.depthwise(input, g, w, output, activation, seSums, sumsPerRow, rows)
    }

    /// The whole batch on `pool`. With SE, each output row's channel sums go to `seScratch` (batch × outHeight ×
    /// paddedChannels) and are then added in row order into `seSums` (batch × paddedChannels): the result does not
    /// depend on how rows were split over threads, so one and two threads give bit-identical outputs.
    package static func run(
        input: UnsafePointer<Float>, geometry g: NHWCConvGeometry, weights w: DepthwiseWeights,
        output: UnsafeMutablePointer<Float>, activation: KernelActivation, seSums: UnsafeMutablePointer<Float>?,
        seScratch: UnsafeMutablePointer<Float>?, pool: WorkerPool?, kernels: KernelTable = KernelDispatch.table
    ) {
        let rowCount = g.batch * g.outHeight
        let pc = w.paddedChannels
        guard let seSums, let seScratch else {
            precondition(seSums == nil, "SE sums need row scratch")
            let body: (Range<Int>, Int) -> Void = { rows, _ in
                run(
                    input: input, geometry: g, weights: w, output: output, activation: activation, seSums: nil,
                    rows: rows, kernels: kernels)
            }
            if let pool { pool.parallelFor(rowCount, body) } else { body(0..<rowCount, 0) }
            return
        }
        seScratch.update(repeating: 0, count: rowCount * pc)
        let body: (Range<Int>, Int) -> Void = { rows, _ in
            run(
                input: input, geometry: g, weights: w, output: output, activation: activation, seSums: seScratch,
                sumsPerRow: true, rows: rows, kernels: kernels)
        }
        if let pool { pool.parallelFor(rowCount, body) } else { body(0..<rowCount, 0) }
        addRowSums(seScratch, into: seSums, geometry: g, paddedChannels: pc, kernels: kernels)
    }

    /// seSums[n] = Σ rowSums[r] over image n's output rows, added in row order (batch × paddedChannels from
    /// batch × outHeight × paddedChannels).
    package static func addRowSums(
        _ rowSums: UnsafePointer<Float>, into seSums: UnsafeMutablePointer<Float>, geometry g: NHWCConvGeometry,
        paddedChannels pc: Int, kernels: KernelTable = KernelDispatch.table
    ) {
        seSums.update(repeating: 0, count: g.batch * pc)
        for row in 0..<(g.batch * g.outHeight) {
            kernels.addVectors(seSums + (row / g.outHeight) * pc, rowSums + row * pc, pc)
        }
    }
}

extension SqueezeExcite {
    /// scale[c] for one image from its per-channel sums over `pixels` pixels. `hidden` needs `reduced` floats;
    /// `sums` and `scale` are padded to 16 (padding lanes of `scale` come out as gate(0) and are never used).
    package func computeScale(
        sums: UnsafePointer<Float>, pixels: Int, hidden: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>,
        kernels: KernelTable = KernelDispatch.table
    ) {
        kernels.seScale(self, sums, pixels, hidden, scale)
    }

    /// Writes `packed` with every row k of every panel multiplied by scale[k] into `out` (same layout).
    package static func scalePacked(
        _ w: PackedWeights, scale: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
        panels: Range<Int>? = nil
    ) {
        KernelDispatch.table(for: w.family).scalePacked(w, scale, out, panels ?? w.panels.indices)
    }

    /// x[p, c] *= scale[c] for `pixels` rows of `channels` floats.
    package static func scaleRows(
        _ x: UnsafeMutablePointer<Float>, pixels: Range<Int>, channels: Int, scale: UnsafePointer<Float>,
        kernels: KernelTable = KernelDispatch.table
    ) {
        kernels.scaleRows(x, pixels, channels, scale)
    }
}

/// Global average pooling over NHWC: out[n, c] = mean over H·W of x[n, :, :, c].
package enum GlobalPool {
    package static func average(
        _ x: UnsafePointer<Float>, batch: Int, pixels: Int, channels: Int, into out: UnsafeMutablePointer<Float>,
        images: Range<Int>? = nil, kernels: KernelTable = KernelDispatch.table
    ) {
        kernels.globalAverage(x, pixels, channels, out, images ?? 0..<batch)
    }
}
