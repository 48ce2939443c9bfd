import Foundation

/// The pointwise activations that fused ops apply in kernel epilogues (DEVELOPERS.md, "Fused ops").
///
/// `hardsigmoid` is PyTorch's `relu6(x + 3) / 6` (ONNX `HardSigmoid` with alpha = 1/6, beta = 0.5), the gate of
/// MobileNetV3-style squeeze-excitation; a standalone ONNX `HardSigmoid` with other constants runs elsewhere.
package enum KernelActivation: String, Sendable, CaseIterable {
    case none, silu, relu, relu6, hardswish, sigmoid, hardsigmoid

    /// Parses a fused node's `activation` / `se_activation` / `se_gate` attribute.
    package init?(attribute: String) { self.init(rawValue: attribute.lowercased()) }

    /// The scalar reference (float64 internally): what the SIMD version is tested against.
    package func reference(_ x: Float) -> Float {
        let d = Double(x)
        switch self {
        case .none: return x
        case .relu: return max(x, 0)
        case .relu6: return min(max(x, 0), 6)
        case .sigmoid: return Float(1 / (1 + Foundation.exp(-d)))
        case .silu: return Float(d / (1 + Foundation.exp(-d)))
        case .hardsigmoid: return Float(min(max(d + 3, 0), 6) / 6)
        case .hardswish: return Float(d * min(max(d + 3, 0), 6) / 6)
        }
    }
}
