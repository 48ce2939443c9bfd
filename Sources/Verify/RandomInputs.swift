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
/// Image-like inputs get values in the range their framework feeds: [-2, 2] for NCHW float inputs (normalized
/// pixels), [0, 255] for NHWC inputs with 3 channels (Keras models normalize inside). A symbolic batch becomes 1;
/// other unknown sizes take `defaultSize` (the architecture's resolution) when given.
public enum RandomInputs {
    public static func make(for graph: Graph, seed: UInt64, defaultSize: Int?, path: String) throws -> [String: Tensor] {
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
            let channelsLast = shape.count == 4 && shape[3] == 3 && shape[1] != 3
            let (lo, hi): (Double, Double) = channelsLast ? (0, 255) : (-2, 2)
            let n = shape.reduce(1, *)
            let values = (0..<n).map { _ in lo + (hi - lo) * generator.nextUnit() }
            feeds[input.name] = Tensor(dtype: input.dtype ?? .float32, shape: shape, values: values)
        }
        return feeds
    }
}

/// SplitMix64: a tiny, well-mixed, reproducible generator (same sequence on every platform).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
