/// Convolution / matrix weights re-laid out once, at load, for the GEMM micro-kernels.
///
/// The GEMM computes C[m, n] = Σ_k A[m, k] · B[k, n] where k runs over (tap, input channel) pairs, tap-major:
/// k = tap · inputChannels + c. Output channels are cut into panels as wide as the kernel family's micro-tile
/// (`KernelFamily.panelWidth`: 32, then 24 or 16 for AVX-512; 16, then 8 for AVX2, NEON and scalar); panel p stores B[k, n0 ..< n0 + width] for every k contiguously, zero-padded past `outputs`, so the
/// micro-kernel streams it with aligned vector loads. The bias is padded the same way.
///
/// Invariant: for every K block the kernel uses — a run of whole taps, or a channel range of one tap — the block's
/// rows of a panel are contiguous: they start at `(tap · inputChannels + c0) · width` within the panel.
package final class PackedWeights: @unchecked Sendable {
    package struct Panel: Sendable {
        /// First output channel.
        package var start: Int
        /// The micro-kernel that runs it (32, 24 or 16 for AVX-512; 16 or 8 for the other families).
        package var width: Int
        /// Output channels actually present (≤ width).
        package var valid: Int
        /// Offset in floats of the panel within `data`.
        package var offset: Int
    }

    /// The kernel family the panels are shaped for: only its GEMM may read them.
    package let family: KernelFamily
    package let taps: Int
    package let inputChannels: Int
    package let outputs: Int
    package let panels: [Panel]
    package let data: FloatBuffer
    package let bias: FloatBuffer
    /// The GEMM's K blocks for these weights, computed once (an array per GEMM call showed up as malloc time).
    package let kBlocks: [KBlock]

    package var depth: Int { taps * inputChannels }

    /// The widest panel (the first): what the GEMM's L2 blocking assumes.
    package let maxPanelWidth: Int

    /// Packs `weight(n, tap, c)` for n < outputs, tap < taps, c < inputChannels, for `family`'s GEMM.
    package init(
        outputs: Int, taps: Int, inputChannels: Int, bias: [Float]?, family: KernelFamily = .active,
        weight: (_ n: Int, _ tap: Int, _ c: Int) -> Float
    ) {
        self.family = family
        self.taps = taps
        self.inputChannels = inputChannels
        self.outputs = outputs
        var panels = [Panel]()
        var start = 0
        var offset = 0
        let depth = taps * inputChannels
        while start < outputs {
            let remaining = outputs - start
            let width = family.panelWidth(remaining: remaining)
            panels.append(Panel(start: start, width: width, valid: min(width, remaining), offset: offset))
            offset += width * depth
            start += width
        }
        self.panels = panels
        maxPanelWidth = panels.first?.width ?? 16
        kBlocks = KBlock.blocks(taps: taps, channels: inputChannels)
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
    package convenience init(convWeights w: [Float], shape: [Int], bias: [Float]?, family: KernelFamily = .active) {
        precondition(shape.count == 4 && w.count == shape.reduce(1, *))
        let (o, i, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        self.init(outputs: o, taps: kh * kw, inputChannels: i, bias: bias, family: family) { n, tap, c in
            w[((n * i + c) * kh + tap / kw) * kw + tap % kw]
        }
    }

    /// Packs a matrix given as `[K, N]` (MatMul, Gemm without transB) or `[N, K]` (`transposed`, Gemm transB=1).
    package convenience init(
        matrix w: [Float], k: Int, n: Int, transposed: Bool, bias: [Float]?, family: KernelFamily = .active
    ) {
        precondition(w.count == k * n)
        self.init(outputs: n, taps: 1, inputChannels: k, bias: bias, family: family) { j, _, c in
            transposed ? w[j * k + c] : w[c * n + j]
        }
    }
}
