import KernelCore

/// The family this module is compiled for (see Package.swift for its CPU flags).
let family = KernelFamily.avx2

/// The vector of the FMA peak loop (`fmaPeakLoop`): one ymm register.
typealias PeakVector = SIMD8<Float>
