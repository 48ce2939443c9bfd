/// `GlobalAveragePool`: the mean over every spatial axis, y[n, c, 1, …] = mean(x[n, c, …]).
package enum GlobalAveragePoolOp: OperatorDefinition {
    static let opType = "GlobalAveragePool"

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "X")
        if let t = x.dtype, !t.isFloatingPoint { throw c.fail("needs a float input, got \(t)") }
        guard let s = x.shape else { return [facts(x.dtype, nil)] }
        guard s.count >= 3 else { throw c.fail("input must have rank ≥ 3, got \(s.text)") }
        return [facts(x.dtype, Array(s[0..<2]) + Shape([Int](repeating: 1, count: s.count - 2)))]
    }

    static func reference(_ c: EvaluationContext) throws -> [Tensor] {
        [try globalAveragePool(try c.required(0, "X"), node: c.node)]
    }

    /// The mean of each (n, c) plane, as a Double sum divided by the plane size.
    static func globalAveragePool(_ x: Tensor, node: Node) throws -> Tensor {
        try x.requireFloat(node)
        guard x.rank >= 3 else { throw IRError.invalidNode(node: node.label, message: "input must have rank ≥ 3") }
        let plane = x.shape[2...].reduce(1, *)
        let xs = x.referenceDoubles
        let planes = x.shape[0] * x.shape[1]
        var y = [Double](repeating: 0, count: planes)
        for i in 0..<planes {
            var s = 0.0
            for p in (i * plane)..<((i + 1) * plane) { s += xs[p] }
            y[i] = s / Double(plane)
        }
        return Tensor.reference(x.dtype, shape: Array(x.shape[0..<2]) + [Int](repeating: 1, count: x.rank - 2), y)
    }
}
