import KernelCore

/// The family this module is compiled for (see Package.swift for its CPU flags).
let family = KernelFamily.avx2

/// The family's register-width vector: one ymm register. The FMA peak loop (`fmaPeakLoop`) and the Winograd F(4×4)
/// transforms run on it.
typealias FamilyVector = SIMD8<Float>
