import KernelCore

// The general epilogue of the GEMM micro-kernels (partial tiles, any activation), shared by every family: the
// accumulators arrive as one or two 16-lane vectors per row. Compiled once per kernel family (symlinked).

/// The epilogue shared by the micro-kernels, specialised per activation so that the activation is inlined.
@inline(__always)
func finishTile(_ t: MicroTile, _ acc: UnsafeMutablePointer<SIMD16<Float>>, vectorsPerRow nv: Int) {
    if !t.finish {
        finishTile(IdentityOp.self, t, acc, vectorsPerRow: nv)
        return
    }
    switch t.activation {
    case .none: finishTile(IdentityOp.self, t, acc, vectorsPerRow: nv)
    case .silu: finishTile(SiluOp.self, t, acc, vectorsPerRow: nv)
    case .relu: finishTile(ReluOp.self, t, acc, vectorsPerRow: nv)
    case .relu6: finishTile(Relu6Op.self, t, acc, vectorsPerRow: nv)
    case .sigmoid: finishTile(SigmoidOp.self, t, acc, vectorsPerRow: nv)
    case .hardswish: finishTile(HardSwishOp.self, t, acc, vectorsPerRow: nv)
    case .hardsigmoid: finishTile(HardSigmoidOp.self, t, acc, vectorsPerRow: nv)
    }
}

/// Partial-sum accumulation, bias, activation, residual, and stores limited to `rowCount` rows and `colCount`
/// columns.
@inline(__always)
func finishTile<Op: PointwiseOp>(
    _ op: Op.Type, _ t: MicroTile, _ acc: UnsafeMutablePointer<SIMD16<Float>>, vectorsPerRow nv: Int
) {
    for i in 0..<t.rowCount {
        let c = t.c + i * t.ldc
        let r = t.residual.map { $0 + i * t.ldr }
        for j in 0..<nv {
            let cols = min(16, t.colCount - 16 * j)
            if cols <= 0 { break }
            var v = acc[i * nv + j]
            let cj = c + 16 * j
            if t.accumulate { v += cols == 16 ? loadVector(cj) : cols == 8 ? loadHalf(cj) : loadPartial(cj, cols) }
            if t.finish {
                v += loadVector(t.bias + 16 * j)
                v = Op.apply(v)
                if let r {
                    v +=
                        cols == 16
                        ? loadVector(r + 16 * j) : cols == 8 ? loadHalf(r + 16 * j) : loadPartial(r + 16 * j, cols)
                }
            }
            if cols == 16 {
                storeVector(v, cj)
            } else if cols == 8 {
                UnsafeMutableRawPointer(cj).storeBytes(of: v.lowHalf, as: SIMD8<Float>.self)
            } else {
                storePartial(v, cj, cols)
            }
        }
    }
}

/// 8 floats in the low half, zeros above.
@inline(__always)
func loadHalf(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    SIMD16(lowHalf: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self), highHalf: SIMD8())
}
