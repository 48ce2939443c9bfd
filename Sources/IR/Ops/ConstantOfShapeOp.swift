/// `ConstantOfShape`: a tensor of the shape given by a 1-D int64 input, every element the one-element
/// `value` attribute (default float32 0).
package enum ConstantOfShapeOp: OperatorDefinition {
    static let opType = "ConstantOfShape"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let s = try c.required(0, "input")
        let v = try value(c.node)
        if let r = s.rank, r != 1 { throw c.fail("the shape input must be 1-D, got rank \(r)") }
        if let e = s.knownElements {
            if let bad = e.compactMap(\.value).first(where: { $0 < 0 }) { throw c.fail("negative dimension \(bad)") }
            return [facts(v.dtype, e)]
        }
        if let n = s.shape?.concrete?.first { return [facts(v.dtype, Shape(repeating: .unknown, count: n))] }
        return [facts(v.dtype, nil)]
    }

    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let dims = try c.required(0, "input").ints
        if let bad = dims.first(where: { $0 < 0 }) { throw c.fail("negative dimension \(bad)") }
        let v = try value(c.node)
        try MemoryBudget.check(
            shape: dims, elementSize: v.bytes.count,
            for: "ConstantOfShape node '\(c.node.label)' output \(dims) \(v.dtype)")
        let n = dims.reduce(1, *)
        var bytes = [UInt8]()
        bytes.reserveCapacity(n * v.bytes.count)
        for _ in 0..<n { bytes.append(contentsOf: v.bytes) }
        return [Tensor(dtype: v.dtype, shape: dims, bytes: bytes)]
    }

    static func value(_ node: Node) throws -> Tensor {
        guard let t = node.tensor("value") else { return Tensor(shape: [], floats: [0]) }
        guard t.count == 1 else {
            throw IRError.invalidNode(node: node.label, message: "value must hold one element, has \(t.count)")
        }
        return t.reshaped([])
    }
}
