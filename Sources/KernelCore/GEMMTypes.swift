#if canImport(Glibc)
    import Glibc
#endif

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
/// Blocking (32–48 KB L1d, 0.5–2 MB L2 per core): K is cut into blocks of at most `limit` (whole taps when a tap's
/// channels fit, else channel ranges of one tap), so that one micro-tile's rows of A (≤ rows·limit floats) stay in
/// L1 while the panels of a group stream from L2.
package struct KBlock: Sendable {
    package var tap: Int
    package var taps: Int
    package var channel: Int
    package var channels: Int

    package static let limit = 512
    /// Bytes of packed B per panel group, and of A's rows in the few-rows loop order: 3/8 of this core's L2, at most
    /// 384 KB (the value tuned on Zen 4's 1 MB L2 and kept on larger ones). On Zen 3's 512 KB L2 that is 192 KB:
    /// with 384 KB there the few-rows order left no room for the C rows being written, and the expand convolutions
    /// of EfficientNetV2-S ran 1.4–1.55× slower (`effnet-kernel-bench gemm --match 1x1`, 128–256 KB all alike). The
    /// size comes from the C library (`sysconf(_SC_LEVEL2_CACHE_SIZE)`, CPUID underneath); 1 MB when it reports none
    /// or a value outside 128 KB…8 MB.
    package static let l2Budget: Int = {
        #if canImport(Glibc)
            let reported = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        #else
            let reported = 0
        #endif
        let l2 = reported >= 128 * 1024 && reported <= 8 << 20 ? reported : 1 << 20
        return min(384 * 1024, l2 / 8 * 3)
    }()

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
