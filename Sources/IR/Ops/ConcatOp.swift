/// `Concat`: joins inputs along `axis` (negative from opset 11); every other dimension must agree.
package enum ConcatOp: OperatorDefinition {
    static let opType = "Concat"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let parts = c.inputs.compactMap { $0 }
        guard !parts.isEmpty else { throw c.fail("Concat needs at least one input") }
        let dtype = parts.compactMap(\.dtype).first
        if let t = dtype, let other = parts.compactMap(\.dtype).first(where: { $0 != t }) {
            throw c.fail("inputs have different types (\(t) and \(other))")
        }
        guard let rank = parts.compactMap(\.rank).first else { return [facts(dtype, nil)] }
        guard let axisAttr = c.node.int("axis") else { throw c.fail("missing attribute 'axis'") }
        let axis = try normalizedAxis(axisAttr, rank: rank, node: c.node)
        var out = [Dim](repeating: .unknown, count: rank)
        var total: Dim = .known(0)
        for p in parts {
            guard let s = p.shape else {
                total = .unknown
                continue
            }
            guard s.count == rank else { throw c.fail("inputs have different ranks (\(rank) and \(s.count))") }
            for d in 0..<rank where d != axis {
                switch (out[d], s[d]) {
                case (.known(let a), .known(let b)) where a != b:
                    throw c.fail("inputs disagree on dimension \(d) (\(a) and \(b))")
                case (.unknown, _), (.symbol, .known): out[d] = s[d]
                default: break
                }
            }
            total = s[axis].value.flatMap { v in total.value.map { .known($0 + v) } } ?? .unknown
        }
        out[axis] = total
        var result = facts(dtype, out)
        if let dims = out.concrete {
            let elements = parts.map(\.knownElements)
            if elements.allSatisfy({ $0 != nil }), dims.reduce(1, *) <= ValueFacts.elementLimit {
                result.elements = plan(parts.map { $0.shape!.concrete! }, axis: axis).apply(elements.map { $0! })
            }
        }
        return [result]
    }

    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let parts = c.inputs.compactMap { $0 }
        guard let first = parts.first else { throw c.fail("Concat needs at least one input") }
        guard let axisAttr = c.node.int("axis") else { throw c.fail("missing attribute 'axis'") }
        let axis = try normalizedAxis(axisAttr, rank: first.rank, node: c.node)
        for p in parts {
            guard p.dtype == first.dtype, p.rank == first.rank,
                (0..<p.rank).allSatisfy({ $0 == axis || p.shape[$0] == first.shape[$0] })
            else {
                throw c.fail("cannot concatenate \(first.dtype)\(first.shape) and \(p.dtype)\(p.shape) on axis \(axis)")
            }
        }
        return [plan(parts.map(\.shape), axis: axis).apply(parts)]
    }

    /// Sources index the row-major concatenation of the inputs' elements.
    static func plan(_ shapes: [[Int]], axis: Int) -> GatherPlan {
        let outer = shapes[0][..<axis].reduce(1, *)
        let rows = shapes.map { $0[axis...].reduce(1, *) }
        var offsets = [Int]()
        var o = 0
        for s in shapes {
            offsets.append(o)
            o += s.reduce(1, *)
        }
        var sources = [Int]()
        sources.reserveCapacity(o)
        for i in 0..<outer {
            for (p, row) in rows.enumerated() {
                let base = offsets[p] + i * row
                sources.append(contentsOf: base..<(base + row))
            }
        }
        var shape = shapes[0]
        shape[axis] = shapes.reduce(0) { $0 + $1[axis] }
        return GatherPlan(shape: shape, sources: sources)
    }
}
