import KernelCore

// Vector helpers and the activations on 16 lanes. This file is compiled into every kernel family and into the
// Runtime (symlinked), as internal code of each module: each family's copy is inlined into its kernels and compiled
// for its CPU. (Shared from KernelCore as `@inlinable`, the generic activation loops stayed unspecialised
// witness-table calls into KernelCore's baseline build, and `pointwiseMin`/`pointwiseMax` stayed calls: the GEMM
// epilogues ran at a tenth of their speed.)

/// Loads 16 floats from any address.
@inline(__always)
func loadVector(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

/// Stores 16 floats at any address.
@inline(__always)
func storeVector(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// Loads the first `n` (< 16) floats at `p`, zero elsewhere: the tail of a row whose length is not a multiple of 16.
/// Eight, the usual tail (24, 40, 56, … channels), is one 256-bit load; other counts go lane by lane.
@inline(__always)
func loadPartial(_ p: UnsafePointer<Float>, _ n: Int) -> SIMD16<Float> {
    if n == 8 { return SIMD16(lowHalf: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self), highHalf: SIMD8()) }
    var v = SIMD16<Float>()
    for i in 0..<n { v[i] = p[i] }
    return v
}

/// Stores the first `n` (< 16) lanes of `v` at `p` (eight as one 256-bit store).
@inline(__always)
func storePartial(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    if n == 8 {
        UnsafeMutableRawPointer(p).storeBytes(of: v.lowHalf, as: SIMD8<Float>.self)
        return
    }
    for i in 0..<n { p[i] = v[i] }
}

/// Lane numbers 0…15, for masking the lanes past a partial block.
var laneIndex: SIMD16<Int32> { SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) }

/// acc += a · b lane-wise: one fused multiply-add, except in the scalar family (`EFFNET_NO_FMA`, baseline x86-64
/// without FMA), where `addProduct` would be a call to `fmaf` per lane (0.2 GFLOP/s) and a multiply then an add
/// is used instead. (The activations keep their fused multiply-adds in every family, so they agree bit for bit.)
@inline(__always)
func madd<V: SIMD>(_ acc: inout V, _ a: V, _ b: V) where V.Scalar == Float {
    #if EFFNET_NO_FMA
        acc = acc + a * b
    #else
        acc.addProduct(a, b)
    #endif
}

/// LLVM's prefetch intrinsic (`llvm.prefetch`: address, write 0/1, locality 0…3, data cache 1), called by name:
/// Swift has no prefetch of its own, and the intrinsic needs no C. It compiles to one `prefetcht1` (x86) / `prfm`.
@_silgen_name("llvm.prefetch.p0")
private func llvmPrefetch(_ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ dataCache: Int32)

/// Asks for the cache line holding `p` to be brought into L2 ahead of its use: a hint that never faults (any
/// address is allowed, also past the end of a buffer) and never changes a result.
@inline(__always)
func prefetchL2(_ p: UnsafePointer<Float>) { llvmPrefetch(UnsafeRawPointer(p), 0, 2, 1) }

/// Loads 8 floats from any address.
@inline(__always)
func loadVector8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Stores 8 floats at any address.
@inline(__always)
func storeVector8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

extension KernelActivation {
    /// The activation on 16 lanes; sigmoid and SiLU through `fastExp` (about 2 ulp, see there).
    @inline(__always)
    func apply(_ v: SIMD16<Float>) -> SIMD16<Float> {
        switch self {
        case .none: return v
        case .relu: return pointwiseMax(v, SIMD16(repeating: 0))
        case .relu6: return clamp(v, 0, 6)
        case .sigmoid: return 1 / (1 + fastExp(-v))
        case .silu: return v / (1 + fastExp(-v))
        case .hardsigmoid:
            return clamp(v + 3, 0, 6) * (1.0 / 6)
        case .hardswish:
            return v * clamp(v + 3, 0, 6) * (1.0 / 6)
        }
    }

    /// The activation on one float, through the same code as `apply` so that scalar tails match vector lanes.
    @inline(__always)
    func apply(_ x: Float) -> Float { apply(SIMD16(repeating: x))[0] }

    /// The activation over `count` floats in place, and their sum into `sums` when given (rounded up to 16: the
    /// squeeze-excitation channel sums). Each kernel family calls this with a concrete `Op`, so that it is
    /// specialised, inlined and compiled for the family's CPU.
    ///
    /// The switch over activations is outside the loops (in the family), so each loop is straight-line SIMD whose
    /// iterations are independent: the out-of-order core overlaps the ~25-deep exp/divide chains of consecutive
    /// vectors. Calling `apply(_:)` per vector from a kernel instead left it as an out-of-line call (measured: 66%
    /// of depthwise time).
    @inline(__always)
    static func map<Op: PointwiseOp>(
        _ op: Op.Type, _ p: UnsafeMutablePointer<Float>, _ count: Int, _ sums: UnsafeMutablePointer<Float>?
    ) {
        let f = Op.apply
        var i = 0
        if let sums {
            while i + 16 <= count {
                let y = f(loadVector(p + i))
                storeVector(y, p + i)
                storeVector(loadVector(sums + i) + y, sums + i)
                i += 16
            }
            if i < count {
                let n = count - i
                let y = f(loadPartial(p + i, n))
                storePartial(y, p + i, n)
                storeVector(loadVector(sums + i) + y.replacing(with: 0, where: laneIndex .>= Int32(n)), sums + i)
            }
        } else {
            if Op.self == IdentityOp.self { return }
            while i + 16 <= count {
                storeVector(f(loadVector(p + i)), p + i)
                i += 16
            }
            if i < count { storePartial(f(loadPartial(p + i, count - i)), p + i, count - i) }
        }
    }
}

/// e^x on 16 lanes: Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, a degree-6 polynomial for e^r (Cephes
/// `expf` coefficients) and 2^n built in the exponent bits.
///
/// Inputs are clamped to [-87.3, 88.3] so that 2^n stays a normal float: results are within 2 ulp of e^x there,
/// 0-ish below (≈1e-38, where sigmoid is 1 and SiLU is x anyway) and ≈2e38 above. NaN stays NaN through the
/// polynomial only partially, so callers should not rely on NaN propagation.
@inline(__always)
func fastExp(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let x = clamp(x, -87.3, 88.3)
    // n = round(x / ln2) via the 1.5·2^23 trick: the sum's low mantissa bits hold n as an integer.
    let magic = SIMD16<Float>(repeating: 12_582_912)
    let shifted = magic.addingProduct(x, SIMD16(repeating: 1.442_695_04))
    let n = shifted - magic
    var r = x.addingProduct(n, SIMD16(repeating: -0.693_359_375))
    r = r.addingProduct(n, SIMD16(repeating: 2.121_944_4e-4))
    var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
    p = SIMD16(repeating: 1.398_199_95e-3).addingProduct(p, r)
    p = SIMD16(repeating: 8.333_451_9e-3).addingProduct(p, r)
    p = SIMD16(repeating: 4.166_579_59e-2).addingProduct(p, r)
    p = SIMD16(repeating: 1.666_666_55e-1).addingProduct(p, r)
    p = SIMD16(repeating: 5.000_000_12e-1).addingProduct(p, r)
    let r2 = r * r
    let er = (r + 1).addingProduct(p, r2)
    let bits = (unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &<< 23) &+ (127 << 23)
    return er * unsafeBitCast(bits, to: SIMD16<Float>.self)
}

/// min(max(v, lo), hi) lane-wise. `SIMD.clamped(lowerBound:upperBound:)` compiles to a scalar loop (it checks
/// NaN bounds per lane); `pointwiseMin`/`pointwiseMax` become single `vminps`/`vmaxps`.
@inline(__always)
func clamp(_ v: SIMD16<Float>, _ lo: Float, _ hi: Float) -> SIMD16<Float> {
    pointwiseMin(pointwiseMax(v, SIMD16(repeating: lo)), SIMD16(repeating: hi))
}

/// One activation as a type, so that generic loops over it are specialised and inlined (closures passed to an
/// `@inline(__always)` function were not: they stayed calls, one per vector).
protocol PointwiseOp { static func apply(_ v: SIMD16<Float>) -> SIMD16<Float> }
enum IdentityOp: PointwiseOp { @inline(__always) static func apply(_ v: SIMD16<Float>) -> SIMD16<Float> { v } }
enum ReluOp: PointwiseOp {
    @inline(__always) static func apply(_ v: SIMD16<Float>) -> SIMD16<Float> { pointwiseMax(v, SIMD16(repeating: 0)) }
}
enum Relu6Op: PointwiseOp {
    @inline(__always) static func apply(_ v: SIMD16<Float>) -> SIMD16<Float> { clamp(v, 0, 6) }
}
enum SigmoidOp: PointwiseOp {
    @inline(__always) static func apply(_ v: SIMD16<Float>) -> SIMD16<Float> { 1 / (1 + fastExp(-v)) }
}
enum SiluOp: PointwiseOp {
    @inline(__always) static func apply(_ v: SIMD16<Float>) -> SIMD16<Float> { v / (1 + fastExp(-v)) }
}
enum HardSigmoidOp: PointwiseOp {
    @inline(__always) static func apply(_ v: SIMD16<Float>) -> SIMD16<Float> { clamp(v + 3, 0, 6) * (1.0 / 6) }
}
enum HardSwishOp: PointwiseOp {
    @inline(__always) static func apply(_ v: SIMD16<Float>) -> SIMD16<Float> { v * clamp(v + 3, 0, 6) * (1.0 / 6) }
}
