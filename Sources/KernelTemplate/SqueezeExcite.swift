import KernelCore

// Squeeze-and-excitation and global pooling kernels (see `SqueezeExcite` in KernelCore for the data and the
// choice of where the scale is applied). This file is compiled once per kernel family (symlinked).

/// scale[c] for one image from its per-channel sums over `pixels` pixels. `hidden` needs `reduced` floats;
/// `sums` and `scale` are padded to 16 (padding lanes of `scale` come out as gate(0) and are never used).
func seComputeScale(
    _ se: SqueezeExcite, sums: UnsafePointer<Float>, pixels: Int, hidden: UnsafeMutablePointer<Float>,
    scale: UnsafeMutablePointer<Float>
) {
    let pc = se.paddedChannels
    let inv = SIMD16<Float>(repeating: 1 / Float(pixels))
    let reduceWeights = se.reduceWeights.pointer
    let expandWeights = se.expandWeights.pointer
    for r in 0..<se.reduced {
        var acc = SIMD16<Float>()
        let w = reduceWeights + r * pc
        var c = 0
        while c < pc {
            madd(&acc, loadVector(sums + c) * inv, loadVector(w + c))
            c += 16
        }
        hidden[r] = se.activation.apply(acc.sum() + se.reduceBias.pointer[r])
    }
    var c = 0
    while c < pc {
        var acc = loadVector(se.expandBias.pointer + c)
        for r in 0..<se.reduced {
            madd(&acc, SIMD16(repeating: hidden[r]), loadVector(expandWeights + r * pc + c))
        }
        storeVector(se.gate.apply(acc), scale + c)
        c += 16
    }
}

/// Writes `packed` with every row k of every panel in `panels` multiplied by scale[k] into `out` (same layout).
func seScalePacked(
    _ w: PackedWeights, scale: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, panels: Range<Int>
) {
    precondition(w.taps == 1)
    for panel in w.panels[panels] {
        let src = w.data.pointer + panel.offset
        let dst = out + panel.offset
        for k in 0..<w.inputChannels {
            let s = scale[k]
            let row = k * panel.width
            var j = 0
            while j + 16 <= panel.width {
                storeVector(loadVector(src + row + j) * s, dst + row + j)
                j += 16
            }
            if j < panel.width { storeVector8(loadVector8(src + row + j) * s, dst + row + j) }
        }
    }
}

/// x[p, c] *= scale[c] for `pixels` rows of `channels` floats.
func seScaleRows(_ x: UnsafeMutablePointer<Float>, pixels: Range<Int>, channels: Int, scale: UnsafePointer<Float>) {
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

/// Global average pooling over NHWC: out[n, c] = mean over H·W of x[n, :, :, c], for the images in `images`.
func globalAverage(
    _ x: UnsafePointer<Float>, pixels: Int, channels: Int, into out: UnsafeMutablePointer<Float>, images: Range<Int>
) {
    let inv = 1 / Float(pixels)
    for n in images {
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

/// The activation in place over `count` floats (and into `sums`, see `KernelActivation.map`), specialised per
/// activation.
func activationMap(
    _ activation: KernelActivation, _ p: UnsafeMutablePointer<Float>, count: Int, sums: UnsafeMutablePointer<Float>?
) {
    switch activation {
    case .none: KernelActivation.map(IdentityOp.self, p, count, sums)
    case .relu: KernelActivation.map(ReluOp.self, p, count, sums)
    case .relu6: KernelActivation.map(Relu6Op.self, p, count, sums)
    case .sigmoid: KernelActivation.map(SigmoidOp.self, p, count, sums)
    case .silu: KernelActivation.map(SiluOp.self, p, count, sums)
    case .hardsigmoid: KernelActivation.map(HardSigmoidOp.self, p, count, sums)
    case .hardswish: KernelActivation.map(HardSwishOp.self, p, count, sums)
    }
}

/// dst[i] += src[i] for `count` floats (a multiple of 16).
func addVectors(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
    var c = 0
    while c < count {
        storeVector(loadVector(dst + c) + loadVector(src + c), dst + c)
        c += 16
    }
}
