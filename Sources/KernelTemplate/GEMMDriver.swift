import KernelCore

/// The GEMM driver around the family's micro-kernels (`gemmTile`, `microRows`): for each K block and panel group
/// (packed B within about a third of L2), each tile of `microRows` rows of A (in L1) meets every panel of the group
/// (streamed from L2). Partial sums of earlier K blocks live in C itself; the epilogue runs on the last one.
/// Compiled once per kernel family (symlinked); `GEMM.run` in the Runtime splits the work over threads.
enum GEMMKernel {
    /// Computes row tiles `tiles` × panels `panelRange` on the calling thread.
    static func compute(_ p: GEMMProblem, tiles: Range<Int>, panels panelRange: Range<Int>) {
        let w = p.weights
        let depth = w.depth
        let blocks = w.kBlocks
        let packed = p.packedOverride ?? UnsafePointer(w.data.pointer)
        var maxTaps = 1
        for block in blocks { maxTaps = max(maxTaps, block.taps) }
        let panelsPerGroup = max(1, KBlock.l2Budget / max(1, min(depth, KBlock.limit) * w.maxPanelWidth * 4))
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: maxTaps * microRows) { buffer in
            let rowPointers = buffer.baseAddress!
            var group = panelRange.lowerBound
            while group < panelRange.upperBound {
                let groupEnd = min(panelRange.upperBound, group + panelsPerGroup)
                for (bi, block) in blocks.enumerated() {
                    let first = bi == 0
                    let last = bi == blocks.count - 1
                    let blockOffset = block.tap * w.inputChannels + block.channel
                    for tile in tiles {
                        let m0 = tile * microRows
                        let rowCount = min(microRows, p.m - m0)
                        fillRowPointers(p.rows, rowPointers, m0: m0, rowCount: rowCount, taps: w.taps, block: block)
                        for pi in group..<groupEnd {
                            let panel = w.panels[pi]
                            let t = MicroTile(
                                rows: rowPointers, taps: block.taps, kc: block.channels,
                                b: packed + panel.offset + blockOffset * panel.width,
                                c: p.c + m0 * p.ldc + panel.start, ldc: p.ldc, rowCount: rowCount,
                                colCount: panel.valid, accumulate: !first, finish: last && !p.raw,
                                bias: w.bias.pointer + panel.start, activation: p.activation,
                                residual: p.residual.map { $0 + m0 * p.ldr + panel.start }, ldr: p.ldr)
                            gemmTile(t, width: panel.width)
                        }
                    }
                }
                group = groupEnd
            }
        }
    }

    @inline(__always)
    static func fillRowPointers(
        _ rows: GEMMRows, _ out: UnsafeMutablePointer<UnsafePointer<Float>>, m0: Int, rowCount: Int, taps: Int,
        block: KBlock
    ) {
        switch rows {
        case .direct(let base, let stride):
            for i in 0..<microRows {
                out[i] = base + (m0 + min(i, rowCount - 1)) * stride + block.channel
            }
        case .indirect(let table):
            for t in 0..<block.taps {
                for i in 0..<microRows {
                    out[t * microRows + i] = table[(m0 + min(i, rowCount - 1)) * taps + block.tap + t] + block.channel
                }
            }
        }
    }
}
