/// Depthwise k×k convolution weights in channel blocks: `data[(block · taps + tap) · 16 + lane]` for channel
/// block · 16 + lane, so that the kernel streams one block's k×k weight vectors contiguously; bias padded to 16.
package final class DepthwiseWeights: @unchecked Sendable {
    package let channels: Int
    package let paddedChannels: Int
    package let kernelHeight: Int
    package let kernelWidth: Int
    package let data: FloatBuffer
    package let bias: FloatBuffer
    /// Zeros where taps in the padding point: one pixel's worth, or a whole padded row segment for the
    /// four-pixel path (3·stride + kw pixels, stride ≤ 2).
    package let zero: FloatBuffer
    package var taps: Int { kernelHeight * kernelWidth }

    /// From ONNX Conv weights `[C, 1, kh, kw]` (group = C).
    package init(weights w: [Float], shape: [Int], bias: [Float]?) {
        precondition(shape.count == 4 && shape[1] == 1 && w.count == shape.reduce(1, *))
        channels = shape[0]
        kernelHeight = shape[2]
        kernelWidth = shape[3]
        paddedChannels = (channels + 15) / 16 * 16
        let taps = kernelHeight * kernelWidth
        data = FloatBuffer(count: taps * paddedChannels)
        self.bias = FloatBuffer(count: paddedChannels)
        zero = FloatBuffer(count: (6 + kernelWidth) * channels + paddedChannels)
        for c in 0..<channels {
            for t in 0..<taps { data.pointer[((c / 16) * taps + t) * 16 + c % 16] = w[c * taps + t] }
            if let bias { self.bias.pointer[c] = bias[c] }
        }
    }
}
