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

    static func reference(_ c: EvaluationContext) throws -> [Tensor] {
        try batchNormalization(
            try c.required(0, "X"), scale: try c.required(1, "scale"), bias: try c.required(2, "B"),
            mean: try c.required(3, "mean"), variance: try c.required(4, "var"), node: c.node)
    }

    /// Inference BatchNormalization per channel: y = x·k + (β − μ·k) with k = γ / √(σ² + ε), in Double.
    static func batchNormalization(
        _ x: Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, node: Node
    ) throws -> [Tensor] {
        try x.requireFloat(node)
        guard x.rank >= 2 else { throw IRError.invalidNode(node: node.label, message: "input must have rank ≥ 2") }
        let c = x.shape[1]
        for (name, p) in [("scale", scale), ("B", bias), ("mean", mean), ("var", variance)] where p.count != c {
            throw IRError.invalidNode(node: node.label, message: "\(name) has \(p.count) elements for \(c) channels")
        }
        if node.outputs.count > 1 {
            throw IRError.invalidNode(node: node.label, message: "running-statistics outputs need training mode")
        }
        let epsilon = Double(node.float("epsilon") ?? 1e-5)
        let g = scale.referenceDoubles
        let b = bias.referenceDoubles
        let mu = mean.referenceDoubles
        let v = variance.referenceDoubles
        let plane = x.shape[2...].reduce(1, *)
        var y = x.referenceDoubles
        for i in 0..<(y.count / max(1, plane)) {
            let ch = i % c
            let k = g[ch] / (v[ch] + epsilon).squareRoot()
            let shift = b[ch] - mu[ch] * k
            for p in (i * plane)..<((i + 1) * plane) { y[p] = y[p] * k + shift }
        }
        return [Tensor.reference(x.dtype, shape: x.shape, y)]
    }
}
