import KernelCore

/// The family this module is compiled for (see Package.swift for its CPU flags).
let family = KernelFamily.avx512

/// The vector of the FMA peak loop (`fmaPeakLoop`): one zmm register.
typealias PeakVector = SIMD16<Float>
