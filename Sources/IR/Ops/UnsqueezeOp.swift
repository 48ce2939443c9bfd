/// `Unsqueeze`: inserts size-1 dimensions at `axes` (positions in the output, negative from its end); axes
/// are an attribute before opset 13 and an int64 input from 13.
package enum UnsqueezeOp: OperatorDefinition {
    static let opType = "Unsqueeze"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "data")
        let axes: [Int]
        if c.opset < 13 {
            axes = try c.node.requiredInts("axes")
        } else {
            guard let a = try c.required(1, "axes").knownInts else { return [facts(x.dtype, nil)] }
            axes = a
        }
        guard let s = x.shape else { return [facts(x.dtype, nil)] }
        var out = facts(x.dtype, try outputShape(s, axes: axes, node: c.node))
        out.elements = x.elements
        return [out]
    }

    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let x = try c.required(0, "data")
        let axes = c.opset < 13 ? try c.node.requiredInts("axes") : try c.required(1, "axes").ints
        return [x.reshaped(try outputShape(Shape(x.shape), axes: axes, node: c.node).concrete!)]
    }

    static func outputShape(_ s: Shape, axes: [Int], node: Node) throws -> Shape {
        let rank = s.count + axes.count
        let positions = Set(try normalizedAxes(axes, rank: rank, node: node))
        var out = Shape()
        var next = s.makeIterator()
        for i in 0..<rank { out.append(positions.contains(i) ? .known(1) : next.next()!) }
        return out
    }
}
