import KernelCore
/// FusedMBConv without SE as a depth-first pipeline: k×k conv (+act) on a block of output pixels into an L2-sized
/// per-worker buffer, then the 1×1 project GEMM on that buffer, then (Winograd) a scatter of the block's pixels with
/// the residual. Blocks are independent, so workers take them statically.
final class FusedPipeline {
    let conv: BoundConv
    let project: PackedWeights
    let cmid: Int
    let cout: Int
    let residual: UnsafePointer<Float>?
    let residualStride: Int
    let output: UnsafeMutablePointer<Float>
    let activation: KernelActivation
    let blockRows: Int
    /// Work units (Winograd tiles or pixels) per block, ≤ the buffers' capacity; blocks are equal-sized and a
    /// multiple of the thread count when there is enough work, so static partitioning stays balanced (4 blocks of
    /// 64, 64, 64, 4 tiles had cost B0's 28² layers a third of their two-thread speed-up).
    let unitsPerBlock: Int
    let blocks: Int
    /// Per worker, `scratchFloats` apart: the k×k conv's output rows, then (Winograd) the project's output rows.
    let scratch: UnsafeMutablePointer<Float>
    let scratchStride: Int

    /// Floats of scratch one worker needs: `rows` (`PlannedConv.blockRows`) of the k×k conv's output, and for
    /// Winograd as many of the project's (scattered to pixels afterwards). A multiple of 16, so workers' parts
    /// stay 64-byte aligned.
    static func scratchFloats(rows: Int, cmid: Int, cout: Int, winograd: Bool) -> Int {
        (rows * cmid + (winograd ? rows * cout : 0) + 15) / 16 * 16
    }

    /// `scratch`: `threads × scratchFloats` floats, for this step's duration only (arena memory other steps reuse).
    init(
        conv: BoundConv, project: PackedWeights, cmid: Int, cout: Int, residual: UnsafePointer<Float>?,
        residualStride: Int, output: UnsafeMutablePointer<Float>, activation: KernelActivation, threads: Int,
        scratch: UnsafeMutablePointer<Float>
    ) {
        self.conv = conv
        self.project = project
        self.cmid = cmid
        self.cout = cout
        self.residual = residual
        self.residualStride = residualStride
        self.output = output
        self.activation = activation
        let rows: Int
        let isWinograd: Bool
        let total: Int
        let capacity: Int
        switch conv {
        case .winograd(let w):
            rows = w.pixelsPerTile * w.blockTiles
            (total, capacity) = (w.totalTiles, w.blockTiles)
            isWinograd = true
        case .direct(let d):
            rows = 256
            (total, capacity) = (d.geometry.outPixels, 256)
            isWinograd = false
        }
        (blocks, unitsPerBlock) = balancedBlocks(
            total: total, capacity: capacity, threads: threads, granule: isWinograd ? 2 : 8)
        blockRows = rows
        self.scratch = scratch
        scratchStride = Self.scratchFloats(rows: rows, cmid: cmid, cout: cout, winograd: isWinograd)
    }

    func run(_ pool: WorkerPool) {
        pool.parallelFor(blocks) { range, worker in
            for block in range { self.runBlock(block, worker: worker) }
        }
    }

    private func runBlock(_ block: Int, worker: Int) {
        let mid = scratch + worker * scratchStride
        switch conv {
        case .winograd(let w):
            let first = block * unitsPerBlock
            let count = min(unitsPerBlock, w.totalTiles - first)
            if count <= 0 { return }
            w.runTiles(first: first, count: count, worker: worker, into: mid, stride: cmid, activation: activation)
            let proj = mid + blockRows * cmid
            let perTile = w.pixelsPerTile
            GEMM.compute(
                GEMM.Problem(
                    rows: .direct(base: mid, stride: cmid), m: count * perTile, weights: project, c: proj, ldc: cout))
            for i in 0..<count {
                for k in 0..<perTile {
                    guard let pixel = w.pixel(tile: first + i, k: k) else { continue }
                    let src = proj + (i * perTile + k) * cout
                    let dst = output + pixel * cout
                    if let residual {
                        let r = residual + pixel * residualStride
                        var c = 0
                        while c + 16 <= cout {
                            storeVector(loadVector(src + c) + loadVector(r + c), dst + c)
                            c += 16
                        }
                        while c < cout {
                            dst[c] = src[c] + r[c]
                            c += 1
                        }
                    } else {
                        dst.update(from: src, count: cout)
                    }
                }
            }
        case .direct(let d):
            let first = block * unitsPerBlock
            let count = min(unitsPerBlock, d.geometry.outPixels - first)
            if count <= 0 { return }
            d.computeBlock(firstPixel: first, pixels: count, into: mid, outputStride: cmid, activation: activation)
            GEMM.compute(
                GEMM.Problem(
                    rows: .direct(base: mid, stride: cmid), m: count, weights: project, c: output + first * cout,
                    ldc: cout,
                    residual: residual.map { $0 + first * residualStride }, ldr: residualStride))
        }
    }
}

/// Splits `total` units into near-equal blocks of at most `capacity`, the block count a multiple of `threads`
/// when there is enough work; block sizes are rounded up to `granule` units (8 pixels = one micro-kernel tile;
/// 2 Winograd tiles = 8 rows).
func balancedBlocks(total: Int, capacity: Int, threads: Int, granule: Int) -> (blocks: Int, perBlock: Int) {
    if total == 0 { return (0, capacity) }
    var blocks = (total + capacity - 1) / capacity
    if threads > 1 && total >= threads * granule { blocks = (blocks + threads - 1) / threads * threads }
    var per = (total + blocks - 1) / blocks
    per = min(capacity, (per + granule - 1) / granule * granule)
    return ((total + per - 1) / per, per)
}
