/// Squeeze-and-excitation: s = gate(W₂ · act(W₁ · mean_hw(x) + b₁) + b₂), then x · s per channel.
///
/// The mean comes from the depthwise kernel's fused sums (divided by H·W here). The two FCs are tiny (C × C/4·…)
/// and run per image on one thread. The scale is then applied where it is cheapest (see `ScaleSite`): on the
/// project convolution's packed weights (K × N floats per image) or on the activations (pixels × K).
package final class SqueezeExcite: @unchecked Sendable {
    package let channels: Int
    package let reduced: Int
    /// W₁ as [reduced][channels].
    package let reduceWeights: FloatBuffer
    package let reduceBias: FloatBuffer
    /// W₂ transposed to [reduced][paddedChannels] so that the expand step is a sum of scaled rows.
    package let expandWeights: FloatBuffer
    package let expandBias: FloatBuffer
    package let activation: KernelActivation
    package let gate: KernelActivation
    package var paddedChannels: Int { (channels + 15) / 16 * 16 }

    /// `reduce`: ONNX Conv weights [reduced, channels, 1, 1]; `expand`: [channels, reduced, 1, 1].
    package init(
        reduce: [Float], reduceBias: [Float], expand: [Float], expandBias: [Float], channels: Int, reduced: Int,
        activation: KernelActivation, gate: KernelActivation
    ) {
        precondition(reduce.count == channels * reduced && expand.count == channels * reduced)
        self.channels = channels
        self.reduced = reduced
        self.activation = activation
        self.gate = gate
        let pc = (channels + 15) / 16 * 16
        reduceWeights = FloatBuffer(count: reduced * pc)
        for r in 0..<reduced { for c in 0..<channels { reduceWeights.pointer[r * pc + c] = reduce[r * channels + c] } }
        self.reduceBias = FloatBuffer(reduceBias)
        expandWeights = FloatBuffer(count: reduced * pc)
        for c in 0..<channels { for r in 0..<reduced { expandWeights.pointer[r * pc + c] = expand[c * reduced + r] } }
        self.expandBias = FloatBuffer(count: pc)
        for c in 0..<channels { self.expandBias.pointer[c] = expandBias[c] }
    }

    /// Where the per-channel scale is applied.
    package enum ScaleSite: Sendable {
        /// Multiply the project conv's packed weights (K × N per image): cheaper when pixels > N.
        case weights
        /// Multiply the activations in place (pixels × K): cheaper when pixels ≤ N.
        case activations
    }

    /// The cheaper site for `pixels` pixels per image feeding a project conv with `outputs` channels: K·N floats
    /// against pixels·K. Measured per image on Zen 4 (`effnet-kernel-bench se`): 576 px, 960→160: weights 14 µs,
    /// activations 25 µs; 144 px, 1536→256: weights 36 µs, activations 10 µs; 196 px, 672→112: 5.5 vs 6.0 µs.
    package static func site(pixels: Int, outputs: Int) -> ScaleSite { pixels > outputs ? .weights : .activations }
}
