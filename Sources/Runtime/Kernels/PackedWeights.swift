/// Convolution / matrix weights re-laid out once, at load, for the GEMM micro-kernels.
///
/// The GEMM computes C[m, n] = Σ_k A[m, k] · B[k, n] where k runs over (tap, input channel) pairs, tap-major:
/// k = tap · inputChannels + c. Output channels are cut into panels of 32 (the last one 16 wide when at most 16
/// remain); panel p stores B[k, n0 ..< n0 + width] for every k contiguously, zero-padded past `outputs`, so the
/// micro-kernel streams it with aligned vector loads. The bias is padded the same way.
///
/// Invariant: for every K block the kernel uses — a run of whole taps, or a channel range of one tap — the block's
/// rows of a panel are contiguous: they start at `(tap · inputChannels + c0) · width` within the panel.
package final class PackedWeights: @unchecked Sendable {
    package struct Panel: Sendable {
        /// First output channel.
        package var start: Int
        /// 32, 24 or 16: the micro-kernel that runs it.
        package var width: Int
        /// Output channels actually present (≤ width).
        package var valid: Int
        /// Offset in floats of the panel within `data`.
        package var offset: Int
    }

    package let taps: Int
    package let inputChannels: Int
    package let outputs: Int
    package let panels: [Panel]
    package let data: FloatBuffer
    package let bias: FloatBuffer
    /// The GEMM's K blocks for these weights, computed once (an array per GEMM call showed up as malloc time).
    let kBlocks: [GEMM.KBlock]

    package var depth: Int { taps * inputChannels }

    /// Packs `weight(n, tap, c)` for n < outputs, tap < taps, c < inputChannels.
    package init(
        outputs: Int, taps: Int, inputChannels: Int, bias: [Float]?, weight: (_ n: Int, _ tap: Int, _ c: Int) -> Float
    ) {
        self.taps = taps
        self.inputChannels = inputChannels
        self.outputs = outputs
        var panels = [Panel]()
        var start = 0
        var offset = 0
        let depth = taps * inputChannels
        while start < outputs {
            let remaining = outputs - start
            let width = remaining > 24 ? 32 : remaining > 16 ? 24 : 16
            panels.append(Panel(start: start, width: width, valid: min(width, remaining), offset: offset))
            offset += width * depth
            start += width
        }
        self.panels = panels
        kBlocks = GEMM.kBlocks(taps: taps, channels: inputChannels)
        data = FloatBuffer(count: offset)
        let biasBuffer = FloatBuffer(count: start + 32)
        if let bias { for n in 0..<outputs { biasBuffer.pointer[n] = bias[n] } }
        self.bias = biasBuffer
        let p = data.pointer
        for panel in panels {
            for tap in 0..<taps {
                for c in 0..<inputChannels {
                    let row = p + panel.offset + (tap * inputChannels + c) * panel.width
                    for j in 0..<panel.valid { row[j] = weight(panel.start + j, tap, c) }
                }
            }
        }
    }

    /// Packs ONNX Conv weights `[O, I, kh, kw]` (group 1): tap = ky · kw + kx.
    package convenience init(convWeights w: [Float], shape: [Int], bias: [Float]?) {
        precondition(shape.count == 4 && w.count == shape.reduce(1, *))
        let (o, i, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        self.init(outputs: o, taps: kh * kw, inputChannels: i, bias: bias) { n, tap, c in
            w[((n * i + c) * kh + tap / kw) * kw + tap % kw]
        }
    }

    /// Packs a matrix given as `[K, N]` (MatMul, Gemm without transB) or `[N, K]` (`transposed`, Gemm transB=1).
    package convenience init(matrix w: [Float], k: Int, n: Int, transposed: Bool, bias: [Float]?) {
        precondition(w.count == k * n)
        self.init(outputs: n, taps: 1, inputChannels: k, bias: bias) { j, _, c in
            transposed ? w[j * k + c] : w[c * n + j]
        }
    }
}
