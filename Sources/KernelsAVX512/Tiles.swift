import KernelCore

/// Rows of the micro-kernels: 8 rows × 32 columns is 16 `SIMD16<Float>` accumulators, 2 B vectors and a
/// broadcast, 19 of AVX-512's 32 registers. Measured on Zen 4 (one 512-bit FMA per cycle, 4-cycle latency):
/// 6×32, 8×32, 14×32, 4×64 and 12×16 all reach ~117 GFLOP/s from L1, so the shape is chosen for small edge
/// waste (M = 144 = 18·8 at V2-S's last stage) and for one row count shared by the 32- and 16-wide kernels.
let microRows = 8

/// C[8×32] (+)= A[8×K] · B[K×32] with the fused epilogue. See `MicroTile`.
@inline(never)
func microKernel8x32(_ t: MicroTile) {
    var c00 = SIMD16<Float>()
    var c01 = SIMD16<Float>()
    var c10 = SIMD16<Float>()
    var c11 = SIMD16<Float>()
    var c20 = SIMD16<Float>()
    var c21 = SIMD16<Float>()
    var c30 = SIMD16<Float>()
    var c31 = SIMD16<Float>()
    var c40 = SIMD16<Float>()
    var c41 = SIMD16<Float>()
    var c50 = SIMD16<Float>()
    var c51 = SIMD16<Float>()
    var c60 = SIMD16<Float>()
    var c61 = SIMD16<Float>()
    var c70 = SIMD16<Float>()
    var c71 = SIMD16<Float>()
    var b = t.b
    var pf = t.prefetch
    var rp = t.rows
    let kc = t.kc
    for _ in 0..<t.taps {
        let a0 = rp[0]
        let a1 = rp[1]
        let a2 = rp[2]
        let a3 = rp[3]
        let a4 = rp[4]
        let a5 = rp[5]
        let a6 = rp[6]
        let a7 = rp[7]
        rp += 8
        var k = 0
        while k < kc {
            prefetchL2(pf)
            prefetchL2(pf + 16)
            pf += 32
            let b0 = loadVector(b)
            let b1 = loadVector(b + 16)
            b += 32
            var x = SIMD16<Float>(repeating: a0[k])
            c00.addProduct(x, b0)
            c01.addProduct(x, b1)
            x = SIMD16<Float>(repeating: a1[k])
            c10.addProduct(x, b0)
            c11.addProduct(x, b1)
            x = SIMD16<Float>(repeating: a2[k])
            c20.addProduct(x, b0)
            c21.addProduct(x, b1)
            x = SIMD16<Float>(repeating: a3[k])
            c30.addProduct(x, b0)
            c31.addProduct(x, b1)
            x = SIMD16<Float>(repeating: a4[k])
            c40.addProduct(x, b0)
            c41.addProduct(x, b1)
            x = SIMD16<Float>(repeating: a5[k])
            c50.addProduct(x, b0)
            c51.addProduct(x, b1)
            x = SIMD16<Float>(repeating: a6[k])
            c60.addProduct(x, b0)
            c61.addProduct(x, b1)
            x = SIMD16<Float>(repeating: a7[k])
            c70.addProduct(x, b0)
            c71.addProduct(x, b1)
            k += 1
        }
    }
    if !t.finish && t.rowCount == 8 && t.colCount == 32 {
        // Plain (partial) sums of a full tile — Winograd products, all but the last K block — straight from
        // registers, skipping the general epilogue.
        let c = t.c
        let ldc = t.ldc
        @inline(__always) func put(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
            storeVector(t.accumulate ? v + loadVector(p) : v, p)
        }
        put(c00, c)
        put(c01, c + 16)
        put(c10, c + ldc)
        put(c11, c + ldc + 16)
        put(c20, c + 2 * ldc)
        put(c21, c + 2 * ldc + 16)
        put(c30, c + 3 * ldc)
        put(c31, c + 3 * ldc + 16)
        put(c40, c + 4 * ldc)
        put(c41, c + 4 * ldc + 16)
        put(c50, c + 5 * ldc)
        put(c51, c + 5 * ldc + 16)
        put(c60, c + 6 * ldc)
        put(c61, c + 6 * ldc + 16)
        put(c70, c + 7 * ldc)
        put(c71, c + 7 * ldc + 16)
        return
    }
    // Copies, not the vars: a closure capturing the accumulators would pin them to memory inside the loop.
    let r = (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71)
    if t.finish && t.rowCount == 8 && t.colCount == 32 {
        switch t.activation {
        case .none: finishFull(IdentityOp.self, t, r)
        case .silu: finishFull(SiluOp.self, t, r)
        case .relu: finishFull(ReluOp.self, t, r)
        case .relu6: finishFull(Relu6Op.self, t, r)
        case .sigmoid: finishFull(SigmoidOp.self, t, r)
        case .hardswish: finishFull(HardSwishOp.self, t, r)
        case .hardsigmoid: finishFull(HardSigmoidOp.self, t, r)
        }
        return
    }
    withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 16) { acc in
        acc[0] = r.0
        acc[1] = r.1
        acc[2] = r.2
        acc[3] = r.3
        acc[4] = r.4
        acc[5] = r.5
        acc[6] = r.6
        acc[7] = r.7
        acc[8] = r.8
        acc[9] = r.9
        acc[10] = r.10
        acc[11] = r.11
        acc[12] = r.12
        acc[13] = r.13
        acc[14] = r.14
        acc[15] = r.15
        finishTile(t, acc.baseAddress!, vectorsPerRow: 2)
    }
}

/// C[8×16] (+)= A[8×K] · B[K×16]: the last panel when at most 16 output channels remain.
@inline(never)
func microKernel8x16(_ t: MicroTile) {
    var c0 = SIMD16<Float>()
    var c1 = SIMD16<Float>()
    var c2 = SIMD16<Float>()
    var c3 = SIMD16<Float>()
    var c4 = SIMD16<Float>()
    var c5 = SIMD16<Float>()
    var c6 = SIMD16<Float>()
    var c7 = SIMD16<Float>()
    var b = t.b
    var pf = t.prefetch
    var rp = t.rows
    let kc = t.kc
    for _ in 0..<t.taps {
        let a0 = rp[0]
        let a1 = rp[1]
        let a2 = rp[2]
        let a3 = rp[3]
        let a4 = rp[4]
        let a5 = rp[5]
        let a6 = rp[6]
        let a7 = rp[7]
        rp += 8
        var k = 0
        while k < kc {
            prefetchL2(pf)
            pf += 16
            let b0 = loadVector(b)
            b += 16
            c0.addProduct(SIMD16<Float>(repeating: a0[k]), b0)
            c1.addProduct(SIMD16<Float>(repeating: a1[k]), b0)
            c2.addProduct(SIMD16<Float>(repeating: a2[k]), b0)
            c3.addProduct(SIMD16<Float>(repeating: a3[k]), b0)
            c4.addProduct(SIMD16<Float>(repeating: a4[k]), b0)
            c5.addProduct(SIMD16<Float>(repeating: a5[k]), b0)
            c6.addProduct(SIMD16<Float>(repeating: a6[k]), b0)
            c7.addProduct(SIMD16<Float>(repeating: a7[k]), b0)
            k += 1
        }
    }
    if !t.accumulate && !t.finish && t.rowCount == 8 && t.colCount == 16 {
        let c = t.c
        let ldc = t.ldc
        storeVector(c0, c)
        storeVector(c1, c + ldc)
        storeVector(c2, c + 2 * ldc)
        storeVector(c3, c + 3 * ldc)
        storeVector(c4, c + 4 * ldc)
        storeVector(c5, c + 5 * ldc)
        storeVector(c6, c + 6 * ldc)
        storeVector(c7, c + 7 * ldc)
        return
    }
    let r = (c0, c1, c2, c3, c4, c5, c6, c7)
    withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 8) { acc in
        acc[0] = r.0
        acc[1] = r.1
        acc[2] = r.2
        acc[3] = r.3
        acc[4] = r.4
        acc[5] = r.5
        acc[6] = r.6
        acc[7] = r.7
        finishTile(t, acc.baseAddress!, vectorsPerRow: 1)
    }
}

/// C[8×24] (+)= A[8×K] · B[K×24]: one 512-bit and one 256-bit vector per row, for 17–24 remaining channels
/// (V2-S's 24-channel stages): 12 512-bit FMA equivalents per k instead of 16 in an 8×32 tile with 8 dead lanes.
@inline(never)
func microKernel8x24(_ t: MicroTile) {
    var c00 = SIMD16<Float>()
    var c10 = SIMD16<Float>()
    var c20 = SIMD16<Float>()
    var c30 = SIMD16<Float>()
    var c40 = SIMD16<Float>()
    var c50 = SIMD16<Float>()
    var c60 = SIMD16<Float>()
    var c70 = SIMD16<Float>()
    var c01 = SIMD8<Float>()
    var c11 = SIMD8<Float>()
    var c21 = SIMD8<Float>()
    var c31 = SIMD8<Float>()
    var c41 = SIMD8<Float>()
    var c51 = SIMD8<Float>()
    var c61 = SIMD8<Float>()
    var c71 = SIMD8<Float>()
    var b = t.b
    var pf = t.prefetch
    var rp = t.rows
    let kc = t.kc
    for _ in 0..<t.taps {
        let a0 = rp[0]
        let a1 = rp[1]
        let a2 = rp[2]
        let a3 = rp[3]
        let a4 = rp[4]
        let a5 = rp[5]
        let a6 = rp[6]
        let a7 = rp[7]
        rp += 8
        var k = 0
        while k < kc {
            prefetchL2(pf)
            prefetchL2(pf + 16)
            pf += 24
            let b0 = loadVector(b)
            let b1 = UnsafeRawPointer(b + 16).loadUnaligned(as: SIMD8<Float>.self)
            b += 24
            var x = a0[k]
            c00.addProduct(SIMD16(repeating: x), b0)
            c01.addProduct(SIMD8(repeating: x), b1)
            x = a1[k]
            c10.addProduct(SIMD16(repeating: x), b0)
            c11.addProduct(SIMD8(repeating: x), b1)
            x = a2[k]
            c20.addProduct(SIMD16(repeating: x), b0)
            c21.addProduct(SIMD8(repeating: x), b1)
            x = a3[k]
            c30.addProduct(SIMD16(repeating: x), b0)
            c31.addProduct(SIMD8(repeating: x), b1)
            x = a4[k]
            c40.addProduct(SIMD16(repeating: x), b0)
            c41.addProduct(SIMD8(repeating: x), b1)
            x = a5[k]
            c50.addProduct(SIMD16(repeating: x), b0)
            c51.addProduct(SIMD8(repeating: x), b1)
            x = a6[k]
            c60.addProduct(SIMD16(repeating: x), b0)
            c61.addProduct(SIMD8(repeating: x), b1)
            x = a7[k]
            c70.addProduct(SIMD16(repeating: x), b0)
            c71.addProduct(SIMD8(repeating: x), b1)
            k += 1
        }
    }
    if t.rowCount == 8 && t.colCount == 24 && (!t.finish || t.activation == .none || t.activation == .silu) {
        // Full tile straight from registers (raw sums, or bias + SiLU/none + residual: V2-S's 24-channel stage).
        let rows16 = (c00, c10, c20, c30, c40, c50, c60, c70)
        let rows8 = (c01, c11, c21, c31, c41, c51, c61, c71)
        if !t.finish {
            finishFull24(IdentityOp.self, t, rows16, rows8, addBias: false)
        } else if t.activation == .silu {
            finishFull24(SiluOp.self, t, rows16, rows8, addBias: true)
        } else {
            finishFull24(IdentityOp.self, t, rows16, rows8, addBias: true)
        }
        return
    }
    let z = SIMD8<Float>()
    let r = (
        c00, SIMD16(lowHalf: c01, highHalf: z), c10, SIMD16(lowHalf: c11, highHalf: z), c20,
        SIMD16(lowHalf: c21, highHalf: z),
        c30, SIMD16(lowHalf: c31, highHalf: z), c40, SIMD16(lowHalf: c41, highHalf: z), c50,
        SIMD16(lowHalf: c51, highHalf: z),
        c60, SIMD16(lowHalf: c61, highHalf: z), c70, SIMD16(lowHalf: c71, highHalf: z)
    )
    withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 16) { acc in
        acc[0] = r.0
        acc[1] = r.1
        acc[2] = r.2
        acc[3] = r.3
        acc[4] = r.4
        acc[5] = r.5
        acc[6] = r.6
        acc[7] = r.7
        acc[8] = r.8
        acc[9] = r.9
        acc[10] = r.10
        acc[11] = r.11
        acc[12] = r.12
        acc[13] = r.13
        acc[14] = r.14
        acc[15] = r.15
        finishTile(t, acc.baseAddress!, vectorsPerRow: 2)
    }
}

/// C[1×w] (+)= A[1×K] · B[K×w] (w = 32, 24 or 16) for single-row tiles (the classifier at batch 1, the last row
/// of a problem), without wasting 7/8 of an 8-row tile. One chain per vector in k order, as in the 8-row kernels,
/// so a row's result does not depend on which tile it lands in (depth-first pipelines cut the rows differently
/// for different thread counts, and outputs must not change with them). At batch 1 the classifier is bound by
/// streaming its weights, not by the chains' latency.
@inline(never)
func microKernel1xN(_ t: MicroTile, width: Int) {
    var s0 = SIMD16<Float>()
    var s1 = SIMD16<Float>()
    var b = t.b
    var pf = t.prefetch
    var rp = t.rows
    let kc = t.kc
    for _ in 0..<t.taps {
        let a0 = rp[0]
        rp += 8
        if width == 24 {
            for k in 0..<kc {
                prefetchL2(pf)
                prefetchL2(pf + 16)
                pf += 24
                let x = SIMD16<Float>(repeating: a0[k])
                s0.addProduct(x, loadVector(b))
                s1.addProduct(
                    x, SIMD16(lowHalf: UnsafeRawPointer(b + 16).loadUnaligned(as: SIMD8<Float>.self), highHalf: SIMD8())
                )
                b += 24
            }
        } else if width == 32 {
            for k in 0..<kc {
                prefetchL2(pf)
                prefetchL2(pf + 16)
                pf += 32
                let x = SIMD16<Float>(repeating: a0[k])
                s0.addProduct(x, loadVector(b))
                s1.addProduct(x, loadVector(b + 16))
                b += 32
            }
        } else {
            for k in 0..<kc {
                prefetchL2(pf)
                pf += 16
                s0.addProduct(SIMD16<Float>(repeating: a0[k]), loadVector(b))
                b += 16
            }
        }
    }
    withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 2) { acc in
        acc[0] = s0
        acc[1] = s1
        var one = t
        one.rowCount = min(1, t.rowCount)
        finishTile(one, acc.baseAddress!, vectorsPerRow: width > 16 ? 2 : 1)
    }
}

/// The epilogue of a full 8×32 tile, straight from registers: sixteen independent bias + activation (+ residual)
/// chains, which the out-of-order core overlaps (the general epilogue below went through a stack copy and a loop
/// with per-vector column checks: 7.5% of B0's time).
@inline(__always)
private func finishFull<Op: PointwiseOp>(
    _ op: Op.Type, _ t: MicroTile,
    _ r: (
        SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
        SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
        SIMD16<Float>, SIMD16<Float>
    )
) {
    let c = t.c
    let ldc = t.ldc
    let b0 = loadVector(t.bias)
    let b1 = loadVector(t.bias + 16)
    @inline(__always) func put(_ v: SIMD16<Float>, _ i: Int, _ j: Int) {
        let p = c + i * ldc + 16 * j
        var y = t.accumulate ? v + loadVector(p) : v
        y = Op.apply(y + (j == 0 ? b0 : b1))
        if let res = t.residual { y += loadVector(res + i * t.ldr + 16 * j) }
        storeVector(y, p)
    }
    put(r.0, 0, 0)
    put(r.1, 0, 1)
    put(r.2, 1, 0)
    put(r.3, 1, 1)
    put(r.4, 2, 0)
    put(r.5, 2, 1)
    put(r.6, 3, 0)
    put(r.7, 3, 1)
    put(r.8, 4, 0)
    put(r.9, 4, 1)
    put(r.10, 5, 0)
    put(r.11, 5, 1)
    put(r.12, 6, 0)
    put(r.13, 6, 1)
    put(r.14, 7, 0)
    put(r.15, 7, 1)
}

/// The epilogue of a full 8×24 tile from registers (one 16-lane and one 8-lane vector per row).
@inline(__always)
private func finishFull24<Op: PointwiseOp>(
    _ op: Op.Type, _ t: MicroTile,
    _ wide: (
        SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
        SIMD16<Float>
    ),
    _ narrow: (
        SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>
    ),
    addBias: Bool
) {
    let c = t.c
    let ldc = t.ldc
    let b0 = addBias ? loadVector(t.bias) : SIMD16<Float>()
    let b1 = addBias ? UnsafeRawPointer(t.bias + 16).loadUnaligned(as: SIMD8<Float>.self) : SIMD8<Float>()
    @inline(__always) func put(_ v: SIMD16<Float>, _ h: SIMD8<Float>, _ i: Int) {
        let p = c + i * ldc
        var y = t.accumulate ? v + loadVector(p) : v
        var yh = t.accumulate ? h + UnsafeRawPointer(p + 16).loadUnaligned(as: SIMD8<Float>.self) : h
        if t.finish {
            // One 16-lane activation over the 8-lane half (upper lanes discarded) keeps a single code path.
            let both = Op.apply(SIMD16(lowHalf: yh + b1, highHalf: SIMD8()))
            y = Op.apply(y + b0)
            yh = both.lowHalf
            if let res = t.residual {
                let rp = res + i * t.ldr
                y += loadVector(rp)
                yh += UnsafeRawPointer(rp + 16).loadUnaligned(as: SIMD8<Float>.self)
            }
        }
        storeVector(y, p)
        UnsafeMutableRawPointer(p + 16).storeBytes(of: yh, as: SIMD8<Float>.self)
    }
    put(wide.0, narrow.0, 0)
    put(wide.1, narrow.1, 1)
    put(wide.2, narrow.2, 2)
    put(wide.3, narrow.3, 3)
    put(wide.4, narrow.4, 4)
    put(wide.5, narrow.5, 5)
    put(wide.6, narrow.6, 6)
    put(wide.7, narrow.7, 7)
}

/// The micro-kernel for a tile of `t.rowCount` rows and a panel `width` wide.
@inline(__always)
func gemmTile(_ t: MicroTile, width: Int) {
    if t.rowCount == 1 {
        microKernel1xN(t, width: width)
    } else if width == 32 {
        microKernel8x32(t)
    } else if width == 24 {
        microKernel8x24(t)
    } else {
        microKernel8x16(t)
    }
}
