import KernelCore

/// This family's kernels as a table. Call it only for a family the CPU supports (`KernelFamily.supported`): the
/// code of this module may use any instruction of the family.
package func kernelTable() -> KernelTable {
    KernelTable(
        family: family, microRows: microRows,
        gemm: { p, tiles, panels in GEMMKernel.compute(p, tiles: tiles, panels: panels) },
        depthwise: { input, g, w, output, activation, sums, perRow, rows in
            DepthwiseKernel.run(
                input: input, geometry: g, weights: w, output: output, activation: activation, seSums: sums,
                sumsPerRow: perRow, rows: rows)
        },
        activation: { activation, p, count, sums in activationMap(activation, p, count: count, sums: sums) },
        seScale: { se, sums, pixels, hidden, scale in
            seComputeScale(se, sums: sums, pixels: pixels, hidden: hidden, scale: scale)
        },
        scalePacked: { w, scale, out, panels in seScalePacked(w, scale: scale, into: out, panels: panels) },
        scaleRows: { x, pixels, channels, scale in seScaleRows(x, pixels: pixels, channels: channels, scale: scale) },
        globalAverage: { x, pixels, channels, out, images in
            globalAverage(x, pixels: pixels, channels: channels, into: out, images: images)
        },
        addVectors: { dst, src, count in addVectors(dst, src, count: count) },
        winogradInput: { w, first, count, v in
            switch w.variant {
            case .f2x2: WinogradKernel.transformInput(w, first: first, count: count, into: v)
            case .f4x4: Winograd4Kernel.transformInput(w, first: first, count: count, into: v)
            }
        },
        winogradOutput: { w, activation, a in
            switch w.variant {
            case .f2x2: WinogradKernel.output(w, activation, a)
            case .f4x4: Winograd4Kernel.output(w, activation, a)
            }
        },
        fmaPeak: { iterations, seed in fmaPeakLoop(iterations: iterations, seed: seed) },
        peakMultiplyAdds: peakChains * FamilyVector.scalarCount)
}
