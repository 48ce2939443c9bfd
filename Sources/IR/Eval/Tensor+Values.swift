extension Tensor {
    /// The elements as Double; a fast path for float32 and float64 (the hot dtypes of the interpreter).
    var doubleValues: [Double] {
        switch dtype {
        case .float32:
            return bytes.withUnsafeBytes { raw in raw.bindMemory(to: Float.self).map { Double($0) } }
        case .float64:
            return bytes.withUnsafeBytes { raw in Array(raw.bindMemory(to: Double.self)) }
        default:
            return doubles
        }
    }

    /// The elements of an integer or bool tensor widened exactly to Int64 (floats truncate toward zero).
    var exactInt64s: [Int64] {
        switch dtype {
        case .int64: int64s
        case .int32: bytes.withUnsafeBytes { raw in raw.bindMemory(to: Int32.self).map { Int64($0) } }
        default: converted(to: .int64).int64s
        }
    }

    /// A tensor of a floating-point `dtype` from doubles, each rounded to nearest as a cast does.
    static func rounding(_ values: [Double], to dtype: DType, shape: [Int]) -> Tensor {
        if dtype == .float32 {
            let floats = values.map { Float($0) }
            return Tensor(dtype: .float32, shape: shape, bytes: floats.withUnsafeBytes { Array($0) })
        }
        return Tensor(dtype: dtype, shape: shape, values: values)
    }

    /// A tensor of an integer `dtype` from Int64 values, wrapped to its width (two's complement, as C casts).
    static func wrapping(_ values: [Int64], to dtype: DType, shape: [Int]) -> Tensor {
        switch dtype {
        case .int64: return Tensor(shape: shape, int64s: values)
        case .int32: return Tensor(shape: shape, int32s: values.map { Int32(truncatingIfNeeded: $0) })
        case .int16:
            let v = values.map { Int16(truncatingIfNeeded: $0) }
            return Tensor(dtype: .int16, shape: shape, bytes: v.withUnsafeBytes { Array($0) })
        case .int8:
            let v = values.map { Int8(truncatingIfNeeded: $0) }
            return Tensor(dtype: .int8, shape: shape, bytes: v.withUnsafeBytes { Array($0) })
        case .uint8: return Tensor(dtype: .uint8, shape: shape, bytes: values.map { UInt8(truncatingIfNeeded: $0) })
        case .bool: return Tensor(shape: shape, bools: values.map { $0 != 0 })
        default: return Tensor(dtype: dtype, shape: shape, values: values.map { Double($0) })
        }
    }
}
