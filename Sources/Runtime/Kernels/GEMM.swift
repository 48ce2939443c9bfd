import KernelCore

/// The GEMM: C[M×N] = act(A[M×K] · B[K×N] + bias) + residual, B packed for one kernel family (`PackedWeights`);
/// the driver and micro-kernels are that family's (`GEMMKernel` in `Sources/KernelTemplate`, tiles in
/// `Sources/Kernels*/Tiles.swift`).
///
/// Work is split over threads by output panels when there are at least as many panels as row tiles (small M,
/// large N: each thread streams its part of B once), else by row tiles.
package enum GEMM {
    package typealias Problem = GEMMProblem

    /// Row tiles of `m` rows for `weights`' family.
    package static func tiles(_ m: Int, _ weights: PackedWeights) -> Int {
        let rows = weights.family.microRows
        return (m + rows - 1) / rows
    }

    /// Runs the problem on `pool` (inline when nil).
    package static func run(_ p: Problem, pool: WorkerPool?) {
        if p.m == 0 || p.weights.outputs == 0 { return }
        let kernels = KernelDispatch.table(for: p.weights.family)
        let tiles = tiles(p.m, p.weights)
        let panels = p.weights.panels.count
        let threads = pool?.threadCount ?? 1
        if threads > 1 && panels >= tiles && panels >= threads {
            pool!.parallelFor(panels) { range, _ in kernels.gemm(p, 0..<tiles, range) }
        } else if let pool, threads > 1 {
            pool.parallelFor(tiles) { range, _ in kernels.gemm(p, range, 0..<panels) }
        } else {
            kernels.gemm(p, 0..<tiles, 0..<panels)
        }
    }

    /// Computes row tiles `tiles` (of `weights.family.microRows` rows) × panels `panels` on the calling thread.
    package static func compute(_ p: Problem, tiles: Range<Int>, panels: Range<Int>) {
        KernelDispatch.table(for: p.weights.family).gemm(p, tiles, panels)
    }

    /// All of `p`'s rows and panels on the calling thread.
    package static func compute(_ p: Problem) {
        compute(p, tiles: 0..<tiles(p.m, p.weights), panels: 0..<p.weights.panels.count)
    }
}
