/// `Transpose`: output dimension i is input dimension `perm[i]` (default: reversed).
package enum TransposeOp: OperatorDefinition {
    static let opType = "Transpose"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "data")
        guard let s = x.shape else { return [facts(x.dtype, nil)] }
        let p = try perm(c.node, rank: s.count)
        var out = facts(x.dtype, p.map { s[$0] })
        if let e = x.elements, let dims = s.concrete { out.elements = plan(dims, perm: p).apply([e]) }
        return [out]
    }

    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let x = try c.required(0, "data")
        return [plan(x.shape, perm: try perm(c.node, rank: x.rank)).apply([x])]
    }

    /// `perm`, checked against the rank (default: the axes reversed).
    package static func perm(_ node: Node, rank: Int) throws -> [Int] {
        guard let p = node.ints("perm") else { return Array((0..<rank).reversed()) }
        guard p.count == rank, Set(p) == Set(0..<rank) else {
            throw IRError.invalidNode(node: node.label, message: "perm \(p) is not a permutation of 0..<\(rank)")
        }
        return p
    }

    static func plan(_ shape: [Int], perm: [Int]) -> GatherPlan {
        let strides = rowMajorStrides(shape)
        let out = perm.map { shape[$0] }
        let tables = perm.map { d in (0..<shape[d]).map { $0 * strides[d] } }
        return GatherPlan(shape: out, sources: GatherPlan.sources(shape: out, tables: tables))
    }
}
