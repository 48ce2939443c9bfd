import KernelCore

// The micro-tile call, internal to each family: defined in KernelCore, its initialiser was a cross-module call per
// tile (5% of the time).

/// One call of a GEMM micro-kernel: a tile of `rows` rows of A times one packed panel of B, for one K block.
///
/// `rows` holds `taps × microRows` row pointers, tap-major, each already advanced to the block's first channel; rows
/// past `rowCount` repeat a valid row (they are computed and not stored). `b` points at the block's first row of
/// the panel. When `accumulate`, the tile adds onto what C holds (a previous K block's partial sums); when
/// `finish`, the epilogue adds the bias, applies the activation and adds the residual while the values are in
/// registers.
struct MicroTile {
    var rows: UnsafePointer<UnsafePointer<Float>>
    var taps: Int
    var kc: Int
    var b: UnsafePointer<Float>
    var c: UnsafeMutablePointer<Float>
    var ldc: Int
    var rowCount: Int
    var colCount: Int
    var accumulate: Bool
    var finish: Bool
    var bias: UnsafePointer<Float>
    var activation: KernelActivation
    var residual: UnsafePointer<Float>?
    var ldr: Int
    /// Where the kernel prefetches while it walks `b` (advancing at the same rate, one panel width a k step): the
    /// same K position of the panel the driver runs next, so that weights arriving from L3 (a network's packed
    /// weights do not fit L2) are on their way one whole tile call ahead; `b` itself when there is no next panel.
    var prefetch: UnsafePointer<Float>
}
