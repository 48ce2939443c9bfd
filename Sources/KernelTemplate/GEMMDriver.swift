import KernelCore

/// The GEMM driver around the family's micro-kernels (`gemmTile`, `microRows`), in one of two loop orders.
///
/// Many rows: for each K block and panel group (packed B within about a third of L2), each tile of `microRows` rows
/// of A (in L1) meets every panel of the group (streamed from L2). Few rows (A's rows for a K block within that same
/// budget: EfficientNets' 7² and 14² stages, M = 49…196): for each K block, each panel meets every tile (A from L2).
/// There B is read once per inference and comes from L3 (a network's weights do not fit L2): panel by panel, its
/// fetch overlaps the previous panel's tiles, where the first order fetched all of it during the first tile (the
/// late MBConv blocks of Lite0 ran ~30% slower than with their weights in L2). In both orders each micro-kernel
/// call prefetches the panel the next call reads. Partial sums of earlier K blocks live in C itself; the epilogue
/// runs on the last one. Compiled once per kernel family (symlinked); `GEMM.run` in the Runtime splits the work
/// over threads.
enum GEMMKernel {
    /// Computes row tiles `tiles` × panels `panelRange` on the calling thread.
    static func compute(_ p: GEMMProblem, tiles: Range<Int>, panels panelRange: Range<Int>) {
        let w = p.weights
        let depth = w.depth
        let blocks = w.kBlocks
        let packed = p.packedOverride ?? UnsafePointer(w.data.pointer)
        var maxTaps = 1
        for block in blocks { maxTaps = max(maxTaps, block.taps) }
        let kc = min(depth, KBlock.limit)
        let panelsPerGroup = max(1, KBlock.l2Budget / max(1, kc * w.maxPanelWidth * 4))
        /// Panel `pi`'s rows of K block `bi` in packed B.
        @inline(__always) func panelBlock(_ pi: Int, _ bi: Int) -> UnsafePointer<Float> {
            let panel = w.panels[pi]
            return packed + panel.offset + (blocks[bi].tap * w.inputChannels + blocks[bi].channel) * panel.width
        }
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: maxTaps * microRows) { buffer in
            let rowPointers = buffer.baseAddress!
            /// Row tile `tile` × panel `pi` of K block `bi`, prefetching `ahead` as it goes.
            @inline(__always) func run(_ tile: Int, _ pi: Int, _ bi: Int, _ ahead: UnsafePointer<Float>) {
                let block = blocks[bi]
                let panel = w.panels[pi]
                let m0 = tile * microRows
                let rowCount = min(microRows, p.m - m0)
                let t = MicroTile(
                    rows: rowPointers, taps: block.taps, kc: block.channels, b: panelBlock(pi, bi),
                    c: p.c + m0 * p.ldc + panel.start, ldc: p.ldc, rowCount: rowCount, colCount: panel.valid,
                    accumulate: bi > 0, finish: bi == blocks.count - 1 && !p.raw, bias: w.bias.pointer + panel.start,
                    activation: p.activation, residual: p.residual.map { $0 + m0 * p.ldr + panel.start }, ldr: p.ldr,
                    prefetch: ahead)
                gemmTile(t, width: panel.width)
            }
            if tiles.count * microRows * kc * 4 <= KBlock.l2Budget {
                for bi in blocks.indices {
                    for pi in panelRange {
                        let ahead =
                            pi + 1 < panelRange.upperBound
                            ? panelBlock(pi + 1, bi)
                            : bi + 1 < blocks.count ? panelBlock(panelRange.lowerBound, bi + 1) : panelBlock(pi, bi)
                        for tile in tiles {
                            let m0 = tile * microRows
                            fillRowPointers(
                                p.rows, rowPointers, m0: m0, rowCount: min(microRows, p.m - m0), taps: w.taps,
                                block: blocks[bi])
                            run(tile, pi, bi, ahead)
                        }
                    }
                }
                return
            }
            var group = panelRange.lowerBound
            while group < panelRange.upperBound {
                let groupEnd = min(panelRange.upperBound, group + panelsPerGroup)
                for bi in blocks.indices {
                    for tile in tiles {
                        let m0 = tile * microRows
                        fillRowPointers(
                            p.rows, rowPointers, m0: m0, rowCount: min(microRows, p.m - m0), taps: w.taps,
                            block: blocks[bi])
                        for pi in group..<groupEnd {
                            // The next call's panel: the group's next one or, after a K block's last tile, the
                            // group's first panel in the next K block (not read yet); else this one (no-op).
                            let ahead =
                                pi + 1 < groupEnd
                                ? panelBlock(pi + 1, bi)
                                : tile == tiles.upperBound - 1 && bi + 1 < blocks.count
                                    ? panelBlock(group, bi + 1) : panelBlock(pi, bi)
                            run(tile, pi, bi, ahead)
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
