/// `Squeeze`: removes the size-1 dimensions at `axes` (attribute before opset 13, optional input from 13),
/// or every size-1 dimension when no axes are given. Squeezing a dimension that is not 1 is an error.
package enum SqueezeOp: OperatorDefinition {
    static let opType = "Squeeze"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "data")
        let axes: [Int]?
        if c.opset < 13 {
            axes = c.node.ints("axes")
        } else if let a = c.input(1) {
            guard let v = a.knownInts else { return [facts(x.dtype, nil)] }
            axes = v
        } else {
            axes = nil
        }
        guard let s = x.shape else { return [facts(x.dtype, nil)] }
        // Without axes, a symbolic or unknown dimension might be 1: the rank is then unknown.
        if axes == nil || axes!.isEmpty, s.contains(where: { $0.value == nil }) { return [facts(x.dtype, nil)] }
        var out = facts(x.dtype, try outputShape(s, axes: axes, node: c.node))
        out.elements = x.elements
        return [out]
    }

    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let x = try c.required(0, "data")
        let axes = c.opset < 13 ? c.node.ints("axes") : c.input(1)?.ints
        return [x.reshaped(try outputShape(Shape(x.shape), axes: axes, node: c.node).concrete!)]
    }

    static func outputShape(_ s: Shape, axes: [Int]?, node: Node) throws -> Shape {
        guard let axes, !axes.isEmpty else { return s.filter { $0 != .known(1) } }
        let remove = Set(try normalizedAxes(axes, rank: s.count, node: node))
        for a in remove {
            if let v = s[a].value, v != 1 {
                throw IRError.invalidNode(node: node.label, message: "cannot squeeze axis \(a) of size \(v)")
            }
        }
        return s.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
    }
}
