import KernelCore

/// The family this module is compiled for (see Package.swift for its CPU flags).
let family = KernelFamily.scalar

/// The vector of the FMA peak loop (`fmaPeakLoop`): one xmm register (SSE2, baseline x86-64).
typealias PeakVector = SIMD4<Float>
