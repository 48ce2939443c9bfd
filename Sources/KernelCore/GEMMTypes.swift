/// Where the GEMM reads the rows of A (one row per output pixel, channels contiguous).
package enum GEMMRows {
    /// Row m starts at `base + m · stride` (a 1×1 convolution over a channels-last tensor, or a matrix).
    case direct(base: UnsafePointer<Float>, stride: Int)
    /// Row m's tap t starts at `table[m · taps + t]` (implicit GEMM for k×k convolutions: the indirection buffer
    /// points each (pixel, tap) at an input pixel, or at a zero row for padding, as XNNPACK does).
    case indirect(table: UnsafePointer<UnsafePointer<Float>>)
}

/// One GEMM: C[M×N] = act(A[M×K] · B[K×N] + bias) + residual, B packed for one kernel family.
package struct GEMMProblem {
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

/// A K block of the GEMM: taps `tap ..< tap + taps`, channels `channel ..< channel + channels` of each.
///
/// Blocking (32–48 KB L1d, 1–2 MB L2 per core): K is cut into blocks of at most `limit` (whole taps when a tap's
/// channels fit, else channel ranges of one tap), so that one micro-tile's rows of A (≤ rows·limit floats) stay in
/// L1 while the panels of a group stream from L2.
package struct KBlock: Sendable {
    package var tap: Int
    package var taps: Int
    package var channel: Int
    package var channels: Int

    package static let limit = 512
    /// Bytes of packed B per panel group: about a third of L2.
    package static let l2Budget = 384 * 1024

    package static func blocks(taps: Int, channels: Int, limit: Int = KBlock.limit) -> [KBlock] {
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
}

/// One call of a GEMM micro-kernel: a tile of `rows` rows of A times one packed panel of B, for one K block.
///
/// `rows` holds `taps × microRows` row pointers, tap-major, each already advanced to the block's first channel; rows
/// past `rowCount` repeat a valid row (they are computed and not stored). `b` points at the block's first row of
/// the panel. When `accumulate`, the tile adds onto what C holds (a previous K block's partial sums); when
/// `finish`, the epilogue adds the bias, applies the activation and adds the residual while the values are in
/// registers.
package struct MicroTile {
    package var rows: UnsafePointer<UnsafePointer<Float>>
    package var taps: Int
    package var kc: Int
    package var b: UnsafePointer<Float>
    package var c: UnsafeMutablePointer<Float>
    package var ldc: Int
    package var rowCount: Int
    package var colCount: Int
    package var accumulate: Bool
    package var finish: Bool
    package var bias: UnsafePointer<Float>
    package var activation: KernelActivation
    package var residual: UnsafePointer<Float>?
    package var ldr: Int

    package init(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: Int, kc: Int, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, rowCount: Int, colCount: Int, accumulate: Bool, finish: Bool,
        bias: UnsafePointer<Float>, activation: KernelActivation, residual: UnsafePointer<Float>?, ldr: Int
    ) {
        self.rows = rows
        self.taps = taps
        self.kc = kc
        self.b = b
        self.c = c
        self.ldc = ldc
        self.rowCount = rowCount
        self.colCount = colCount
        self.accumulate = accumulate
        self.finish = finish
        self.bias = bias
        self.activation = activation
        self.residual = residual
        self.ldr = ldr
    }
}
