/// `Shape`: the input's dimensions as a 1-D int64 tensor; from opset 15 the slice `[start, end)` of them
/// (negative values count from the end, out-of-range values clamp).
///
/// Inference knows the result element-wise even for a dynamic batch (`[N,3,224,224]` → `[N,3,224,224]`),
/// which is what lets the `tf_` SAME-padding arithmetic resolve.
package enum ShapeOp: OperatorDefinition {
    static let opType = "Shape"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "data")
        guard let s = x.shape else { return [facts(.int64, [.unknown])] }
        let (start, end) = range(c.node, opset: c.opset, rank: s.count)
        let dims = Array(s[start..<end])
        var out = facts(.int64, [.known(dims.count)])
        if let known = dims.concrete {
            out.constant = Tensor(shape: [dims.count], int64s: known.map { Int64($0) })
        } else if dims.count <= ValueFacts.elementLimit {
            out.elements = dims
        }
        return [out]
    }

    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let x = try c.required(0, "data")
        let (start, end) = range(c.node, opset: c.opset, rank: x.rank)
        return [Tensor(shape: [end - start], int64s: x.shape[start..<end].map { Int64($0) })]
    }

    static func range(_ node: Node, opset: Int, rank: Int) -> (Int, Int) {
        guard opset >= 15 else { return (0, rank) }
        func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
        let start = clamp(node.int("start") ?? 0)
        let end = clamp(node.int("end") ?? rank)
        return (start, max(start, end))
    }
}
