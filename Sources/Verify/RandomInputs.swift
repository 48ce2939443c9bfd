import IR

/// Problems with what `verify` was asked to compare.
public enum VerifyError: Error, CustomStringConvertible, Equatable {
    case unknownInputShape(path: String, input: String, shape: String)

    public var description: String {
        switch self {
        case .unknownInputShape(let path, let input, let shape):
            "\(path): input '\(input)' has shape \(shape) with unknown sizes; pass --reference with real inputs"
        }
    }
}

/// Seeded pseudo-random inputs for models verified without a reference file.
///
/// Image inputs (rank 4) are smooth random images, not independent per-pixel noise: a coarse grid of uniform values
/// (one per 16×16 pixels) bilinearly upsampled, plus 5 % fine noise. White noise is far outside what a trained or
/// calibrated network sees; it drives EfficientNetV2-S to logits in the hundreds, where float32 rounding alone
/// (Sigmoid then Mul against a fused SiLU) moves outputs by more than 1e-4 and a runtime comparison says nothing.
/// Values span the range the framework feeds: [-2, 2] for NCHW float inputs (normalized pixels), [0, 255] for
/// NHWC inputs with 3 channels (Keras models normalize inside). A symbolic batch becomes 1; other unknown sizes take
/// `defaultSize` (the architecture's resolution) when given. Other inputs get uniform values in [-2, 2].
public enum RandomInputs {
    public static func make(for graph: Graph, seed: UInt64, defaultSize: Int?, path: String) throws -> [String: Tensor]
    {
        var generator = SplitMix64(seed: seed)
        var feeds = [String: Tensor]()
        for input in graph.inputs {
            guard let dims = input.shape else {
                throw VerifyError.unknownInputShape(path: path, input: input.name, shape: "[?]")
            }
            var shape = [Int]()
            for (k, d) in dims.enumerated() {
                if let v = d.value {
                    shape.append(v)
                } else if k == 0 {
                    shape.append(1)
                } else if let s = defaultSize {
                    shape.append(s)
                } else {
                    throw VerifyError.unknownInputShape(path: path, input: input.name, shape: dims.text)
                }
            }
            // The dims come from the file: a declared 2^20 × 2^20 image is refused here, not by the allocator.
            try MemoryBudget.check(
                shape: shape, elementSize: 8,
                for: "random input '\(input.name)' \(shape.map(String.init).joined(separator: "x"))")
            let channelsLast = Layout(imageInput: shape) == .nhwc
            let (lo, hi): (Double, Double) = channelsLast ? (0, 255) : (-2, 2)
            let unit: [Double]
            if shape.count == 4 {
                unit = smoothImages(shape: shape, channelsLast: channelsLast, generator: &generator)
            } else {
                unit = (0..<shape.reduce(1, *)).map { _ in generator.nextUnit() }
            }
            feeds[input.name] = Tensor(
                dtype: input.dtype ?? .float32, shape: shape, values: unit.map { lo + (hi - lo) * $0 })
        }
        return feeds
    }
}

extension RandomInputs {
    /// Values in [0, 1) laid out as `shape` (NCHW, or NHWC when `channelsLast`): per image and channel, a
    /// ⌈H/16⌉+1 × ⌈W/16⌉+1 grid of uniform values, bilinearly interpolated, mixed 95 : 5 with fine noise.
    static func smoothImages(shape: [Int], channelsLast: Bool, generator: inout SplitMix64) -> [Double] {
        let (n, c, h, w) =
            channelsLast ? (shape[0], shape[3], shape[1], shape[2]) : (shape[0], shape[1], shape[2], shape[3])
        let cell = 16
        let gh = (h + cell - 1) / cell + 1
        let gw = (w + cell - 1) / cell + 1
        var out = [Double](repeating: 0, count: n * c * h * w)
        for img in 0..<n {
            for ch in 0..<c {
                let grid = (0..<(gh * gw)).map { _ in generator.nextUnit() }
                for y in 0..<h {
                    let fy = Double(y) / Double(cell)
                    let y0 = Int(fy)
                    let ty = fy - Double(y0)
                    for x in 0..<w {
                        let fx = Double(x) / Double(cell)
                        let x0 = Int(fx)
                        let tx = fx - Double(x0)
                        let top = grid[y0 * gw + x0] * (1 - tx) + grid[y0 * gw + x0 + 1] * tx
                        let bottom = grid[(y0 + 1) * gw + x0] * (1 - tx) + grid[(y0 + 1) * gw + x0 + 1] * tx
                        let v = 0.95 * (top * (1 - ty) + bottom * ty) + 0.05 * generator.nextUnit()
                        let index = channelsLast ? ((img * h + y) * w + x) * c + ch : ((img * c + ch) * h + y) * w + x
                        out[index] = v
                    }
                }
            }
        }
        return out
    }
}
