/// `Clip`: y = min(max(x, min), max), elementwise; bounds are attributes before opset 11 and optional scalar
/// inputs from opset 11 (integer inputs from opset 12). NaN stays NaN. When min > max every element becomes max
/// (the max is applied last, as ONNX and onnxruntime do).
package enum ClipOp: OperatorDefinition {
    static let opType = "Clip"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "input")
        for i in 1...2 {
            guard let b = c.input(i) else { continue }
            if let s = b.shape, s.count > 1 || (s.count == 1 && s[0].value.map { $0 != 1 } ?? false) {
                throw c.fail("\(i == 1 ? "min" : "max") must be a scalar, got shape \(s.text)")
            }
            if let t = b.dtype, let xt = x.dtype, t != xt { throw c.fail("bound is \(t) but the input is \(xt)") }
        }
        return [facts(x.dtype, x.shape)]
    }

    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let x = try c.required(0, "input")
        if x.dtype.isInteger {
            for t in [c.input(1), c.input(2)].compactMap({ $0 }) where t.count != 1 {
                throw c.fail("Clip bounds must be scalars, got shape \(t.shape)")
            }
            let lo = c.input(1).map { $0.exactInt64s[0] } ?? Int64.min
            let hi = c.input(2).map { $0.exactInt64s[0] } ?? Int64.max
            let v = x.exactInt64s.map { Swift.min(Swift.max($0, lo), hi) }
            return [Tensor.wrapping(v, to: x.dtype, shape: x.shape)]
        }
        let (lo, hi) = try bounds(c.node, opset: c.opset, min: c.input(1), max: c.input(2))
        return try UnaryMap.evaluate(c) { clamp($0, lo, hi) }
    }

    /// min(max(x, lo), hi): hi when lo > hi; NaN stays NaN (both comparisons are false).
    static func clamp(_ x: Double, _ lo: Double, _ hi: Double) -> Double {
        let raised = x < lo ? lo : x
        return raised > hi ? hi : raised
    }

    /// (min, max) as Double from the attributes (opset < 11) or the optional scalar inputs; ±∞ when absent.
    static func bounds(_ node: Node, opset: Int, min: Tensor?, max: Tensor?) throws -> (Double, Double) {
        if opset < 11 {
            return (Double(node.float("min") ?? -.infinity), Double(node.float("max") ?? .infinity))
        }
        for t in [min, max].compactMap({ $0 }) where t.count != 1 {
            throw IRError.invalidNode(node: node.label, message: "Clip bounds must be scalars, got \(t.shape)")
        }
        return (min?.doubles[0] ?? -.infinity, max?.doubles[0] ?? .infinity)
    }
}
