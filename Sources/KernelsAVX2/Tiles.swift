import KernelCore

// GEMM micro-kernels for 8-lane vector units with 16 registers (AVX2 + FMA), also compiled for NEON (two 4-lane
// halves per `SIMD8`: 24 of its 32 registers) and for baseline x86-64 (the scalar family).
//
// 6 rows × 16 columns is 12 `SIMD8<Float>` accumulators, 2 B vectors and a broadcast: 15 of AVX2's 16 ymm
// registers, and 12 independent FMA chains, enough to cover two FMA pipes × 4–5 cycles of latency (the inner
// loop compiles to 12 `vfmadd231ps` on registers, no spill). The 8×32 tile of the AVX-512 family would need 32
// ymm accumulators and spill on every k. The scalar family (SSE2: 4 lanes, 16 xmm registers) packs 8-wide
// panels only and runs the 6×8 tile: 12 xmm accumulators, 2 B vectors and a broadcast; its 6×16 tile needed 24
// xmm accumulators and spilled half of them on every k.

/// Rows of the micro-kernels.
let microRows = 6

/// C[6×16] (+)= A[6×K] · B[K×16] with the fused epilogue. See `MicroTile`.
@inline(never)
func microKernel6x16(_ t: MicroTile) {
    var c00 = SIMD8<Float>()
    var c01 = SIMD8<Float>()
    var c10 = SIMD8<Float>()
    var c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>()
    var c21 = SIMD8<Float>()
    var c30 = SIMD8<Float>()
    var c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>()
    var c41 = SIMD8<Float>()
    var c50 = SIMD8<Float>()
    var c51 = SIMD8<Float>()
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
        rp += 6
        var k = 0
        while k < kc {
            prefetchL2(pf)
            pf += 16
            let b0 = loadVector8(b)
            let b1 = loadVector8(b + 8)
            b += 16
            var x = SIMD8<Float>(repeating: a0[k])
            madd(&c00, x, b0)
            madd(&c01, x, b1)
            x = SIMD8<Float>(repeating: a1[k])
            madd(&c10, x, b0)
            madd(&c11, x, b1)
            x = SIMD8<Float>(repeating: a2[k])
            madd(&c20, x, b0)
            madd(&c21, x, b1)
            x = SIMD8<Float>(repeating: a3[k])
            madd(&c30, x, b0)
            madd(&c31, x, b1)
            x = SIMD8<Float>(repeating: a4[k])
            madd(&c40, x, b0)
            madd(&c41, x, b1)
            x = SIMD8<Float>(repeating: a5[k])
            madd(&c50, x, b0)
            madd(&c51, x, b1)
            k += 1
        }
    }
    let r = (
        SIMD16(lowHalf: c00, highHalf: c01), SIMD16(lowHalf: c10, highHalf: c11), SIMD16(lowHalf: c20, highHalf: c21),
        SIMD16(lowHalf: c30, highHalf: c31), SIMD16(lowHalf: c40, highHalf: c41), SIMD16(lowHalf: c50, highHalf: c51)
    )
    if t.rowCount == 6 && t.colCount == 16 {
        // Full tile straight from registers: raw (partial) sums, or bias + activation + residual.
        finishFull(t, r, half: false)
        return
    }
    withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 6) { acc in
        acc[0] = r.0
        acc[1] = r.1
        acc[2] = r.2
        acc[3] = r.3
        acc[4] = r.4
        acc[5] = r.5
        finishTile(t, acc.baseAddress!, vectorsPerRow: 1)
    }
}

/// C[6×8] (+)= A[6×K] · B[K×8]: the last panel when at most 8 output channels remain.
@inline(never)
func microKernel6x8(_ t: MicroTile) {
    var c0 = SIMD8<Float>()
    var c1 = SIMD8<Float>()
    var c2 = SIMD8<Float>()
    var c3 = SIMD8<Float>()
    var c4 = SIMD8<Float>()
    var c5 = SIMD8<Float>()
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
        rp += 6
        var k = 0
        while k < kc {
            // One 64-byte line every other k: the second prefetch of a line costs a load slot and nothing else.
            prefetchL2(pf)
            pf += 8
            let b0 = loadVector8(b)
            b += 8
            madd(&c0, SIMD8<Float>(repeating: a0[k]), b0)
            madd(&c1, SIMD8<Float>(repeating: a1[k]), b0)
            madd(&c2, SIMD8<Float>(repeating: a2[k]), b0)
            madd(&c3, SIMD8<Float>(repeating: a3[k]), b0)
            madd(&c4, SIMD8<Float>(repeating: a4[k]), b0)
            madd(&c5, SIMD8<Float>(repeating: a5[k]), b0)
            k += 1
        }
    }
    let z = SIMD8<Float>()
    let r = (
        SIMD16(lowHalf: c0, highHalf: z), SIMD16(lowHalf: c1, highHalf: z), SIMD16(lowHalf: c2, highHalf: z),
        SIMD16(lowHalf: c3, highHalf: z), SIMD16(lowHalf: c4, highHalf: z), SIMD16(lowHalf: c5, highHalf: z)
    )
    if t.rowCount == 6 && t.colCount == 8 {
        // Full tile straight from registers, eight columns (the activation runs on 16 lanes, half of them unused).
        finishFull(t, r, half: true)
        return
    }
    withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 6) { acc in
        acc[0] = r.0
        acc[1] = r.1
        acc[2] = r.2
        acc[3] = r.3
        acc[4] = r.4
        acc[5] = r.5
        finishTile(t, acc.baseAddress!, vectorsPerRow: 1)
    }
}

/// C[1×w] (+)= A[1×K] · B[K×w] (w = 16 or 8) for single-row tiles (the classifier at batch 1, the last row of a
/// problem), without wasting 5/6 of a tile. One chain per vector in k order, as in the 6-row kernels, so a row's
/// result does not depend on which tile it lands in (depth-first pipelines cut the rows differently for different
/// thread counts, and outputs must not change with them).
@inline(never)
func microKernel1xN(_ t: MicroTile, width: Int) {
    var s0 = SIMD8<Float>()
    var s1 = SIMD8<Float>()
    var b = t.b
    var pf = t.prefetch
    var rp = t.rows
    let kc = t.kc
    for _ in 0..<t.taps {
        let a0 = rp[0]
        rp += 6
        if width == 16 {
            for k in 0..<kc {
                prefetchL2(pf)
                pf += 16
                let x = SIMD8<Float>(repeating: a0[k])
                madd(&s0, x, loadVector8(b))
                madd(&s1, x, loadVector8(b + 8))
                b += 16
            }
        } else {
            for k in 0..<kc {
                prefetchL2(pf)
                pf += 8
                madd(&s0, SIMD8<Float>(repeating: a0[k]), loadVector8(b))
                b += 8
            }
        }
    }
    let r = SIMD16(lowHalf: s0, highHalf: s1)
    withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 1) { acc in
        acc[0] = r
        var one = t
        one.rowCount = min(1, t.rowCount)
        finishTile(one, acc.baseAddress!, vectorsPerRow: 1)
    }
}

/// The epilogue of a full tile of 6 rows from registers, 16 columns or (`half`) 8, specialised per activation.
@inline(__always)
private func finishFull(
    _ t: MicroTile, _ r: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>),
    half: Bool
) {
    if !t.finish {
        finishFull(IdentityOp.self, t, r, addBias: false, half: half)
        return
    }
    switch t.activation {
    case .none: finishFull(IdentityOp.self, t, r, addBias: true, half: half)
    case .silu: finishFull(SiluOp.self, t, r, addBias: true, half: half)
    case .relu: finishFull(ReluOp.self, t, r, addBias: true, half: half)
    case .relu6: finishFull(Relu6Op.self, t, r, addBias: true, half: half)
    case .sigmoid: finishFull(SigmoidOp.self, t, r, addBias: true, half: half)
    case .hardswish: finishFull(HardSwishOp.self, t, r, addBias: true, half: half)
    case .hardsigmoid: finishFull(HardSigmoidOp.self, t, r, addBias: true, half: half)
    }
}

/// Six independent (accumulate,) bias, activation (, residual) chains on 16-lane rows (two registers each here);
/// with `half`, only the low 8 columns are read and stored.
@inline(__always)
private func finishFull<Op: PointwiseOp>(
    _ op: Op.Type, _ t: MicroTile,
    _ r: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>), addBias: Bool,
    half: Bool
) {
    let c = t.c
    let ldc = t.ldc
    @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> { half ? loadHalf(p) : loadVector(p) }
    let bias = addBias ? load(t.bias) : SIMD16<Float>()
    @inline(__always) func put(_ v: SIMD16<Float>, _ i: Int) {
        let p = c + i * ldc
        var y = t.accumulate ? v + load(p) : v
        if t.finish {
            y = Op.apply(y + bias)
            if let res = t.residual { y += load(res + i * t.ldr) }
        }
        if half { storeVector8(y.lowHalf, p) } else { storeVector(y, p) }
    }
    put(r.0, 0)
    put(r.1, 1)
    put(r.2, 2)
    put(r.3, 3)
    put(r.4, 4)
    put(r.5, 5)
}

/// The micro-kernel for a tile of `t.rowCount` rows and a panel `width` wide (always 8 in the scalar family, see
/// `KernelFamily.panelWidth`).
@inline(__always)
func gemmTile(_ t: MicroTile, width: Int) {
    if t.rowCount == 1 {
        microKernel1xN(t, width: width)
    } else if width == 16 {
        microKernel6x16(t)
    } else {
        microKernel6x8(t)
    }
}
