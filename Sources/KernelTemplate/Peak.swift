import KernelCore

/// The core's multiply-add peak on this family's vector (`FamilyVector`, in each family's Family.swift): the yardstick
/// for the GEMM micro-kernel (`KernelProbe.fmaPeakGFLOPS`). Twelve independent chains acc = acc + acc·x, one fused
/// multiply-add each (a multiply then an add in the scalar family, see `madd`), unrolled: 12 chains cover two
/// FMA pipes × 4–6 cycles of latency, and with `x` they take 13 of AVX2's 16 registers, so nothing spills. `x` is
/// so small that a + a·x rounds back to a: the values never grow, however many steps run (the hardware still
/// executes every multiply-add; the compiler cannot know). Returns a value that depends on every chain, so that the
/// compiler keeps them all. Compiled once per kernel family (symlinked).
@inline(never)
func fmaPeakLoop(iterations: Int, seed: Float) -> Float {
    let x = FamilyVector(repeating: seed * 1e-12)
    var a0 = FamilyVector(repeating: seed)
    var a1 = a0 + 1
    var a2 = a0 + 2
    var a3 = a0 + 3
    var a4 = a0 + 4
    var a5 = a0 + 5
    var a6 = a0 + 6
    var a7 = a0 + 7
    var a8 = a0 + 8
    var a9 = a0 + 9
    var a10 = a0 + 10
    var a11 = a0 + 11
    for _ in 0..<iterations {
        madd(&a0, a0, x)
        madd(&a1, a1, x)
        madd(&a2, a2, x)
        madd(&a3, a3, x)
        madd(&a4, a4, x)
        madd(&a5, a5, x)
        madd(&a6, a6, x)
        madd(&a7, a7, x)
        madd(&a8, a8, x)
        madd(&a9, a9, x)
        madd(&a10, a10, x)
        madd(&a11, a11, x)
    }
    return ((a0 + a1 + a2 + a3) + (a4 + a5 + a6 + a7) + (a8 + a9 + a10 + a11)).sum()
}

/// Multiply-adds per `fmaPeakLoop` iteration.
let peakChains = 12
