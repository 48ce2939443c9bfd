import OpCore

/// The pointwise activations that fused ops apply in kernel epilogues: OpCore's `Activation` (its cases, attribute
/// names and scalar definitions, which the IR uses too) under the name the kernel families know it by. The SIMD
/// versions (`Sources/KernelTemplate/Vector.swift`) are tested against `Activation.reference`.
package typealias KernelActivation = Activation
