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

extension DType {
    /// The dtype of an ONNX `TensorProto.DataType` code (initializers, value types, Cast's `to`), or nil for codes
    /// effnet does not carry (strings, complex, unsigned 16/32/64-bit, float8, 4-bit types).
    public init?(onnxCode code: Int) {
        guard let dtype = DType.allCases.first(where: { $0.onnxCode == code }) else { return nil }
        self = dtype
    }

    /// The ONNX `TensorProto.DataType` code (the wire value in `onnx.proto`).
    public var onnxCode: Int {
        switch self {
        case .float32: 1
        case .uint8: 2
        case .int8: 3
        case .int16: 5
        case .int32: 6
        case .int64: 7
        case .bool: 9
        case .float16: 10
        case .float64: 11
        case .bfloat16: 16
        }
    }
}
