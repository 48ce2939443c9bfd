/// A dense, C-ordered (row-major) array: the one value type that crosses every module.
///
/// Elements are stored as little-endian bytes exactly as ONNX `raw_data` and `.npy` hold them, so a tensor read
/// from a file and written back is bit-identical whatever its dtype. Typed views (`floats`, `doubles`, `int64s`)
/// convert on the way out; integer → float conversion is exact up to 2^24 (float) and 2^53 (double).
public struct Tensor: Sendable, Equatable, Hashable {
    public let dtype: DType
    public let shape: [Int]
    /// Little-endian element bytes in C order; `bytes.count == count * dtype.byteSize`.
    public let bytes: [UInt8]

    /// Number of elements (1 for a 0-d scalar).
    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(
            bytes.count == shape.reduce(1, *) * dtype.byteSize,
            "tensor of \(dtype) \(shape) needs \(shape.reduce(1, *) * dtype.byteSize) bytes, got \(bytes.count)")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// Reinterprets the same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(dtype: dtype, shape: newShape, bytes: bytes)
    }
}

// MARK: - Construction from typed values

extension Tensor {
    public init(shape: [Int], floats: [Float]) {
        precondition(floats.count == shape.reduce(1, *), "\(floats.count) values for shape \(shape)")
        self.init(dtype: .float32, shape: shape, bytes: floats.withUnsafeBytes { Array($0) })
    }

    public init(shape: [Int], doubles: [Double]) {
        precondition(doubles.count == shape.reduce(1, *), "\(doubles.count) values for shape \(shape)")
        self.init(dtype: .float64, shape: shape, bytes: doubles.withUnsafeBytes { Array($0) })
    }

    public init(shape: [Int], int64s: [Int64]) {
        precondition(int64s.count == shape.reduce(1, *), "\(int64s.count) values for shape \(shape)")
        self.init(dtype: .int64, shape: shape, bytes: int64s.withUnsafeBytes { Array($0) })
    }

    public init(shape: [Int], int32s: [Int32]) {
        precondition(int32s.count == shape.reduce(1, *), "\(int32s.count) values for shape \(shape)")
        self.init(dtype: .int32, shape: shape, bytes: int32s.withUnsafeBytes { Array($0) })
    }

    public init(shape: [Int], bools: [Bool]) {
        precondition(bools.count == shape.reduce(1, *), "\(bools.count) values for shape \(shape)")
        self.init(dtype: .bool, shape: shape, bytes: bools.map { $0 ? 1 : 0 })
    }

    /// Builds a tensor of `dtype` from doubles, rounding as a cast would (float: nearest even; integers: toward
    /// zero, as numpy's `astype` and ONNX `Cast` do for in-range values).
    public init(dtype: DType, shape: [Int], values: [Double]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        switch dtype {
        case .float64: self.init(shape: shape, doubles: values)
        case .float32: self.init(shape: shape, floats: values.map { Float($0) })
        case .float16:
            let h = values.map { HalfBits.half(fromFloat: Float($0)) }
            self.init(dtype: .float16, shape: shape, bytes: h.withUnsafeBytes { Array($0) })
        case .bfloat16:
            let h = values.map { HalfBits.bfloat16(fromFloat: Float($0)) }
            self.init(dtype: .bfloat16, shape: shape, bytes: h.withUnsafeBytes { Array($0) })
        case .int64: self.init(shape: shape, int64s: values.map { Int64(clamping: Tensor.truncatedInt($0)) })
        case .int32: self.init(shape: shape, int32s: values.map { Int32(truncatingIfNeeded: Tensor.truncatedInt($0)) })
        case .int16:
            let v = values.map { Int16(truncatingIfNeeded: Tensor.truncatedInt($0)) }
            self.init(dtype: .int16, shape: shape, bytes: v.withUnsafeBytes { Array($0) })
        case .int8:
            let v = values.map { Int8(truncatingIfNeeded: Tensor.truncatedInt($0)) }
            self.init(dtype: .int8, shape: shape, bytes: v.withUnsafeBytes { Array($0) })
        case .uint8:
            self.init(
                dtype: .uint8, shape: shape, bytes: values.map { UInt8(truncatingIfNeeded: Tensor.truncatedInt($0)) })
        case .bool: self.init(shape: shape, bools: values.map { $0 != 0 })
        }
    }

    /// A 0-d float32 scalar.
    public static func scalar(_ value: Float) -> Tensor { Tensor(shape: [], floats: [value]) }
    /// A 0-d int64 scalar.
    public static func scalar(_ value: Int64) -> Tensor { Tensor(shape: [], int64s: [value]) }

    /// A tensor of `dtype` filled with zeros.
    public static func zeros(_ dtype: DType, shape: [Int]) -> Tensor {
        Tensor(dtype: dtype, shape: shape, bytes: [UInt8](repeating: 0, count: shape.reduce(1, *) * dtype.byteSize))
    }

    private static func truncatedInt(_ v: Double) -> Int64 {
        if v.isNaN { return 0 }
        if v >= 9.2e18 { return Int64.max }
        if v <= -9.2e18 { return Int64.min }
        return Int64(v.rounded(.towardZero))
    }
}

// MARK: - Typed views

extension Tensor {
    /// The elements as `Float`, converting from any dtype (bool → 0/1).
    public var floats: [Float] {
        if dtype == .float32 {
            return bytes.withUnsafeBytes { raw in Array(raw.bindMemory(to: Float.self)) }
        }
        return mapElements { Float($0) }
    }

    /// The elements as `Double`, converting from any dtype (bool → 0/1).
    public var doubles: [Double] {
        if dtype == .float64 {
            return bytes.withUnsafeBytes { raw in Array(raw.bindMemory(to: Double.self)) }
        }
        return mapElements { $0 }
    }

    /// The elements as `Int64`; floats are truncated toward zero.
    public var int64s: [Int64] {
        if dtype == .int64 {
            return bytes.withUnsafeBytes { raw in Array(raw.bindMemory(to: Int64.self)) }
        }
        return mapElements { Tensor.truncatedInt($0) }
    }

    /// The elements as `Int`; floats are truncated toward zero.
    public var ints: [Int] { int64s.map { Int($0) } }

    /// The tensor converted to another dtype with `Cast` semantics (see `init(dtype:shape:values:)`).
    public func converted(to target: DType) -> Tensor {
        if target == dtype { return self }
        if target == .int64, dtype.isInteger || dtype == .bool {
            return Tensor(shape: shape, int64s: mapElementsExact())
        }
        return Tensor(dtype: target, shape: shape, values: doubles)
    }

    /// Every element as Double (exact for all dtypes except int64 beyond 2^53).
    private func mapElements<T>(_ transform: (Double) -> T) -> [T] {
        bytes.withUnsafeBytes { raw -> [T] in
            let n = count
            var out = [T]()
            out.reserveCapacity(n)
            switch dtype {
            case .float32:
                for i in 0..<n {
                    out.append(transform(Double(raw.loadUnaligned(fromByteOffset: i * 4, as: Float.self))))
                }
            case .float64:
                for i in 0..<n { out.append(transform(raw.loadUnaligned(fromByteOffset: i * 8, as: Double.self))) }
            case .float16:
                for i in 0..<n {
                    out.append(
                        transform(
                            Double(HalfBits.float(fromHalf: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))))
                    )
                }
            case .bfloat16:
                for i in 0..<n {
                    out.append(
                        transform(
                            Double(
                                HalfBits.float(fromBFloat16: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                        ))
                }
            case .int64:
                for i in 0..<n {
                    out.append(transform(Double(raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))))
                }
            case .int32:
                for i in 0..<n {
                    out.append(transform(Double(raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))))
                }
            case .int16:
                for i in 0..<n {
                    out.append(transform(Double(raw.loadUnaligned(fromByteOffset: i * 2, as: Int16.self))))
                }
            case .int8:
                for i in 0..<n { out.append(transform(Double(raw.load(fromByteOffset: i, as: Int8.self)))) }
            case .uint8:
                for i in 0..<n { out.append(transform(Double(raw[i]))) }
            case .bool:
                for i in 0..<n { out.append(transform(raw[i] != 0 ? 1 : 0)) }
            }
            return out
        }
    }

    /// Integer elements widened to Int64 without passing through Double.
    private func mapElementsExact() -> [Int64] {
        bytes.withUnsafeBytes { raw -> [Int64] in
            (0..<count).map { i -> Int64 in
                switch dtype {
                case .int64: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)
                case .int32: Int64(raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))
                case .int16: Int64(raw.loadUnaligned(fromByteOffset: i * 2, as: Int16.self))
                case .int8: Int64(raw.load(fromByteOffset: i, as: Int8.self))
                case .uint8, .bool: Int64(raw[i])
                default: preconditionFailure("not an integer dtype")
                }
            }
        }
    }
}

extension Tensor: CustomStringConvertible {
    /// `float32[2,3]` followed by up to eight values.
    public var description: String {
        let head = "\(dtype)\(shape)"
        let values = count <= 8 ? doubles : Array(doubles.prefix(8))
        let shown = values.map { v -> String in
            dtype.isFloatingPoint ? String(format6: v) : String(Int64(v))
        }
        return head + " {" + shown.joined(separator: ", ") + (count > 8 ? ", …}" : "}")
    }
}

extension String {
    /// A compact decimal form of a double with up to six significant digits.
    init(format6 v: Double) {
        if v == v.rounded(), abs(v) < 1e15 {
            self = String(Int64(v))
            return
        }
        var s = String(Float(v))
        if s.count > 12 { s = String(s.prefix(12)) }
        self = s
    }
}
