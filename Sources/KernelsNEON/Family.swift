import KernelCore

/// The family this module is compiled for (see Package.swift for its CPU flags).
let family = KernelFamily.neon

/// The vector of the FMA peak loop (`fmaPeakLoop`): one q register.
typealias PeakVector = SIMD4<Float>
