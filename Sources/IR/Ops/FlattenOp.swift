/// `Flatten`: reshapes to 2-D `[d0·…·d(axis−1), d(axis)·…·d(r−1)]`; `axis` (default 1) may be negative
/// from opset 11 and equal to the rank (giving `[n, 1]`).
package enum FlattenOp: OperatorDefinition {
    static let opType = "Flatten"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "input")
        guard let s = x.shape else { return [facts(x.dtype, [.unknown, .unknown])] }
        let axis = try resolvedAxis(c.node, rank: s.count)
        var out = facts(x.dtype, [product(s[..<axis]), product(s[axis...])])
        out.elements = x.elements
        return [out]
    }

    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let x = try c.required(0, "input")
        let axis = try resolvedAxis(c.node, rank: x.rank)
        return [x.reshaped([x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *)])]
    }

    static func resolvedAxis(_ node: Node, rank: Int) throws -> Int {
        let axis = node.int("axis") ?? 1
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a <= rank else {
            throw IRError.invalidNode(node: node.label, message: "axis \(axis) is out of range for rank \(rank)")
        }
        return a
    }
}

/// The product of dims: known when all are known, the symbol itself for a lone symbol times known 1s.
func product<C: Collection>(_ dims: C) -> Dim where C.Element == Dim {
    var known = 1
    var symbol: Dim?
    for d in dims {
        switch d {
        case .known(let v): known *= v
        case .symbol:
            if symbol != nil { return .unknown }
            symbol = d
        case .unknown: return .unknown
        }
    }
    if let symbol { return known == 1 ? symbol : (known == 0 ? .known(0) : .unknown) }
    return .known(known)
}
