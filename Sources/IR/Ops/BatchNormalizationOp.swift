/// `BatchNormalization` in inference mode: y = (x − mean) / √(var + ε) · scale + B per channel (axis 1).
///
/// Opset < 9 `spatial = 0` (per-element statistics) and opset ≥ 14 `training_mode = 1` are rejected: no
/// exporter emits them for an inference graph. Extra outputs (running statistics) get the statistics' shape.
package enum BatchNormalizationOp: OperatorDefinition {
    static let opType = "BatchNormalization"

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "X")
        if c.node.int("training_mode") == 1 { throw c.fail("training_mode = 1 is not supported (inference only)") }
        if c.opset < 9, c.node.int("spatial") == 0 { throw c.fail("spatial = 0 is not supported") }
        if let r = x.rank, r < 2 { throw c.fail("input must have rank ≥ 2, got \(r)") }
        let channels = x.shape?[1] ?? .unknown
        for (i, role) in ["scale", "B", "mean", "var"].enumerated() {
            let p = try c.required(1 + i, role)
            if let t = p.dtype, let xt = x.dtype, t != xt, c.opset < 15 || i >= 2 {
                // Opset 15 lets scale/B differ in type from X; mean/var always match it.
                throw c.fail("\(role) is \(t) but the input is \(xt)")
            }
            guard let s = p.shape else { continue }
            guard s.count == 1 else { throw c.fail("\(role) must be 1-D, got \(s.text)") }
            if let n = s[0].value, let cv = channels.value, n != cv {
                throw c.fail("\(role) has \(n) elements but the input has \(cv) channels")
            }
        }
        var out = [facts(x.dtype, x.shape)]
        for _ in 1..<max(1, c.node.outputs.count) { out.append(facts(x.dtype, [channels])) }
        return out
    }
}
