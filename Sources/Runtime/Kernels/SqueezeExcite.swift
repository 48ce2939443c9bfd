/// Squeeze-and-excitation: s = gate(W₂ · act(W₁ · mean_hw(x) + b₁) + b₂), then x · s per channel.
///
/// The mean comes from the depthwise kernel's fused sums (divided by H·W here). The two FCs are tiny (C × C/4·…)
/// and run per image on one thread. The scale is then applied where it is cheapest (see `ScaleSite`): on the
/// project convolution's packed weights (K × N floats per image) or on the activations (pixels × K).
package final class SqueezeExcite: @unchecked Sendable {
    package let channels: Int
    package let reduced: Int
    /// W₁ as [reduced][channels].
    let reduceWeights: FloatBuffer
    let reduceBias: FloatBuffer
    /// W₂ transposed to [reduced][paddedChannels] so that the expand step is a sum of scaled rows.
    let expandWeights: FloatBuffer
    let expandBias: FloatBuffer
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

    /// scale[c] for one image from its per-channel sums over `pixels` pixels. `hidden` needs `reduced` floats;
    /// `sums` and `scale` are padded to 16 (padding lanes of `scale` come out as gate(0) and are never used).
    package func computeScale(
        sums: UnsafePointer<Float>, pixels: Int, hidden: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>
    ) {
        let pc = paddedChannels
        let inv = SIMD16<Float>(repeating: 1 / Float(pixels))
        for r in 0..<reduced {
            var acc = SIMD16<Float>()
            let w = reduceWeights.pointer + r * pc
            var c = 0
            while c < pc {
                acc.addProduct(loadVector(sums + c) * inv, loadVector(w + c))
                c += 16
            }
            hidden[r] = activation.apply(acc.sum() + reduceBias.pointer[r])
        }
        var c = 0
        while c < pc {
            var acc = loadVector(expandBias.pointer + c)
            for r in 0..<reduced {
                acc.addProduct(SIMD16(repeating: hidden[r]), loadVector(expandWeights.pointer + r * pc + c))
            }
            storeVector(gate.apply(acc), scale + c)
            c += 16
        }
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

    /// Writes `packed` with every row k of every panel multiplied by scale[k] into `out` (same layout).
    package static func scalePacked(
        _ w: PackedWeights, scale: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
        panels: Range<Int>? = nil
    ) {
        precondition(w.taps == 1)
        for panel in w.panels[panels ?? w.panels.indices] {
            let src = w.data.pointer + panel.offset
            let dst = out + panel.offset
            for k in 0..<w.inputChannels {
                let s = scale[k]
                let row = k * panel.width
                storeVector(loadVector(src + row) * s, dst + row)
                if panel.width == 32 { storeVector(loadVector(src + row + 16) * s, dst + row + 16) }
                if panel.width == 24 {
                    let half = UnsafeRawPointer(src + row + 16).loadUnaligned(as: SIMD8<Float>.self) * s
                    UnsafeMutableRawPointer(dst + row + 16).storeBytes(of: half, as: SIMD8<Float>.self)
                }
            }
        }
    }

    /// x[p, c] *= scale[c] for `pixels` rows of `channels` floats.
    package static func scaleRows(
        _ x: UnsafeMutablePointer<Float>, pixels: Range<Int>, channels: Int, scale: UnsafePointer<Float>
    ) {
        for p in pixels {
            let row = x + p * channels
            var c = 0
            while c + 16 <= channels {
                storeVector(loadVector(row + c) * loadVector(scale + c), row + c)
                c += 16
            }
            while c < channels {
                row[c] *= scale[c]
                c += 1
            }
        }
    }
}

/// Global average pooling over NHWC: out[n, c] = mean over H·W of x[n, :, :, c].
package enum GlobalPool {
    package static func average(
        _ x: UnsafePointer<Float>, batch: Int, pixels: Int, channels: Int, into out: UnsafeMutablePointer<Float>,
        images: Range<Int>? = nil
    ) {
        let inv = 1 / Float(pixels)
        for n in images ?? 0..<batch {
            let image = x + n * pixels * channels
            let dst = out + n * channels
            var c = 0
            while c < channels {
                let lanes = min(16, channels - c)
                var s0 = SIMD16<Float>()
                var s1 = SIMD16<Float>()
                var p = 0
                if lanes == 16 {
                    while p + 1 < pixels {
                        s0 += loadVector(image + p * channels + c)
                        s1 += loadVector(image + (p + 1) * channels + c)
                        p += 2
                    }
                    if p < pixels { s0 += loadVector(image + p * channels + c) }
                    storeVector((s0 + s1) * inv, dst + c)
                } else {
                    for p in 0..<pixels { s0 += loadPartial(image + p * channels + c, lanes) }
                    storePartial(s0 * inv, dst + c, lanes)
                }
                c += 16
            }
        }
    }
}
