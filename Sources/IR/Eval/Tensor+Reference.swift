extension Tensor {
    /// The elements as Double, with a fast path for float32 (the interpreter's hot dtype).
    var referenceDoubles: [Double] {
        switch dtype {
        case .float32: bytes.withUnsafeBytes { raw in raw.bindMemory(to: Float.self).map { Double($0) } }
        case .float64: bytes.withUnsafeBytes { raw in Array(raw.bindMemory(to: Double.self)) }
        default: doubles
        }
    }

    /// A floating-point tensor from Double results, each rounded once to `dtype` (nearest even).
    static func reference(_ dtype: DType, shape: [Int], _ values: [Double]) -> Tensor {
        if dtype == .float32 {
            let floats = values.map { Float($0) }
            return Tensor(dtype: .float32, shape: shape, bytes: floats.withUnsafeBytes { Array($0) })
        }
        return Tensor(dtype: dtype, shape: shape, values: values)
    }

    /// Throws unless this is a floating-point tensor: the heavy references compute in Double and round back.
    func requireFloat(_ node: Node) throws {
        guard dtype.isFloatingPoint else {
            throw IRError.invalidNode(node: node.label, message: "\(node.opType) needs float inputs, got \(dtype)")
        }
    }
}
