/// Where the GEMM reads the rows of A (one row per output pixel, channels contiguous).
package enum GEMMRows {
    /// Row m starts at `base + m · stride` (a 1×1 convolution over a channels-last tensor, or a matrix).
    case direct(base: UnsafePointer<Float>, stride: Int)
    /// Row m's tap t starts at `table[m · taps + t]` (implicit GEMM for k×k convolutions: the indirection buffer
    /// points each (pixel, tap) at an input pixel, or at a zero row for padding, as XNNPACK does).
    case indirect(table: UnsafePointer<UnsafePointer<Float>>)
}

/// The driver around the micro-kernels: C[M×N] = act(A[M×K] · B[K×N] + bias) + residual.
///
/// Blocking (Zen 4: 32 KB L1d, 1 MB L2 per core): K is cut into blocks of at most `kBlock` (whole taps when a tap's
/// channels fit, else channel ranges of one tap); output panels into groups whose packed block stays within about
/// half of L2. For each K block and panel group, each 8-row tile of A (≤ 8·kBlock floats, in L1) meets every panel
/// of the group (streamed from L2). Partial sums of earlier K blocks live in C itself; the epilogue runs on the
/// last one. Work is split over threads by output panels when there are at least as many panels as row tiles
/// (small M, large N: each thread streams its part of B once), else by row tiles.
package enum GEMM {
    package static let kBlock = 512
    package static let l2Budget = 384 * 1024

    package struct Problem {
        package var rows: GEMMRows
        package var m: Int
        package var weights: PackedWeights
        /// Packed panels to use instead of `weights.data` (same layout), e.g. weights scaled by an SE gate.
        package var packedOverride: UnsafePointer<Float>?
        package var c: UnsafeMutablePointer<Float>
        package var ldc: Int
        package var activation: KernelActivation
        package var residual: UnsafePointer<Float>?
        package var ldr: Int
        /// Store the plain sums: no bias, activation or residual (Winograd's transform-domain products).
        package var raw = false

        package init(
            rows: GEMMRows, m: Int, weights: PackedWeights, packedOverride: UnsafePointer<Float>? = nil,
            c: UnsafeMutablePointer<Float>, ldc: Int, activation: KernelActivation = .none,
            residual: UnsafePointer<Float>? = nil, ldr: Int = 0
        ) {
            self.rows = rows
            self.m = m
            self.weights = weights
            self.packedOverride = packedOverride
            self.c = c
            self.ldc = ldc
            self.activation = activation
            self.residual = residual
            self.ldr = ldr
        }
    }

    /// A K block: taps `tap ..< tap + taps`, channels `channel ..< channel + channels` of each.
    struct KBlock {
        var tap: Int
        var taps: Int
        var channel: Int
        var channels: Int
    }

    static func kBlocks(taps: Int, channels: Int, limit: Int = kBlock) -> [KBlock] {
        if channels <= limit {
            let per = max(1, limit / max(channels, 1))
            return stride(from: 0, to: taps, by: per).map {
                KBlock(tap: $0, taps: min(per, taps - $0), channel: 0, channels: channels)
            }
        }
        let pieces = (channels + limit - 1) / limit
        let size = (channels + pieces - 1) / pieces
        var blocks = [KBlock]()
        for tap in 0..<taps {
            for c in stride(from: 0, to: channels, by: size) {
                blocks.append(KBlock(tap: tap, taps: 1, channel: c, channels: min(size, channels - c)))
            }
        }
        return blocks
    }

    /// Runs the problem on `pool` (inline when nil).
    package static func run(_ p: Problem, pool: WorkerPool?) {
        if p.m == 0 || p.weights.outputs == 0 { return }
        let tiles = (p.m + microRows - 1) / microRows
        let panels = p.weights.panels.count
        let threads = pool?.threadCount ?? 1
        if threads > 1 && panels >= tiles && panels >= threads {
            pool!.parallelFor(panels) { range, _ in compute(p, tiles: 0..<tiles, panels: range) }
        } else if let pool, threads > 1 {
            pool.parallelFor(tiles) { range, _ in compute(p, tiles: range, panels: 0..<panels) }
        } else {
            compute(p, tiles: 0..<tiles, panels: 0..<panels)
        }
    }

    /// Computes row tiles `tiles` × panels `panelRange` on the calling thread.
    package static func compute(_ p: Problem, tiles: Range<Int>, panels panelRange: Range<Int>) {
        let w = p.weights
        let depth = w.depth
        let blocks = w.kBlocks
        let packed = p.packedOverride ?? UnsafePointer(w.data.pointer)
        let maxTaps = blocks.map(\.taps).max() ?? 1
        let panelsPerGroup = max(1, l2Budget / max(1, min(depth, kBlock) * 32 * 4))
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
                            if rowCount == 1 {
                                microKernel1xN(t, width: panel.width)
                            } else if panel.width == 32 {
                                microKernel8x32(t)
                            } else if panel.width == 24 {
                                microKernel8x24(t)
                            } else {
                                microKernel8x16(t)
                            }
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
