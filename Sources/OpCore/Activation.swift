import Foundation

/// The activations effnet's fused ops name in their `activation` / `se_activation` / `se_gate` attributes
/// (DEVELOPERS.md, "Fused ops"), with their scalar definitions in Double: the one definition that the IR's ops
/// (`Sigmoid`, `HardSwish`, …, the fused ops' reference) and the kernels' epilogues (`KernelActivation`, the same
/// type) both use; the SIMD versions in the kernel families are tested against `apply`.
///
/// `hardsigmoid` is PyTorch's `relu6(x + 3) / 6` (ONNX `HardSigmoid` with alpha = 1/6, beta = 0.5), the gate of
/// MobileNetV3-style squeeze-excitation; a standalone ONNX `HardSigmoid` with other constants uses `hardSigmoid`.
public enum Activation: String, Sendable, CaseIterable {
    case none, silu, relu, relu6, hardswish, sigmoid, hardsigmoid

    /// Parses an attribute value; nil for names effnet does not know.
    public init?(attribute: String) { self.init(rawValue: attribute.lowercased()) }

    public func apply(_ x: Double) -> Double {
        switch self {
        case .none: x
        case .silu: x * Activation.sigmoid(x)
        case .relu: x < 0 ? 0 : x
        case .relu6: x < 0 ? 0 : (x > 6 ? 6 : x)
        case .hardswish: Activation.hardSwish(x)
        case .sigmoid: Activation.sigmoid(x)
        case .hardsigmoid: Activation.hardSigmoid(x, alpha: 1.0 / 6.0, beta: 0.5)
        }
    }

    /// `apply` on a float, computed in Double and rounded once: what the kernels' SIMD versions are tested against.
    public func reference(_ x: Float) -> Float { Float(apply(Double(x))) }

    /// The logistic function 1 / (1 + e^−x); for very negative x, e^−x overflows to +∞ and the result is 0.
    @inline(__always) public static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// max(0, min(1, α·x + β)); NaN stays NaN.
    @inline(__always) public static func hardSigmoid(_ x: Double, alpha: Double, beta: Double) -> Double {
        let v = alpha * x + beta
        return v < 0 ? 0 : (v > 1 ? 1 : v)
    }

    /// x · max(0, min(1, x/6 + 1/2)), the ONNX definition (α = 1/6 exactly, not the float 0.16666667).
    @inline(__always) public static func hardSwish(_ x: Double) -> Double {
        x * hardSigmoid(x, alpha: 1.0 / 6.0, beta: 0.5)
    }
}
