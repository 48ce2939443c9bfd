/// Element types the IR carries. Values are stored little-endian, as ONNX `raw_data` and `.npy` (`<`) store them.
public enum DType: String, Sendable, CaseIterable, Hashable, CustomStringConvertible {
    case float32, float16, bfloat16, float64
    case int8, int16, int32, int64, uint8, bool

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: true
        default: false
        }
    }

    public var isInteger: Bool { !isFloatingPoint && self != .bool }

    public var description: String { rawValue }
}
