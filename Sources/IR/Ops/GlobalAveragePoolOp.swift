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
}
