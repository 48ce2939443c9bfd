/// `ReduceMean`: the mean over `axes`, keeping them as size 1 when `keepdims` = 1 (the default).
///
/// Axes are an attribute up to opset 17 and an optional int64 input from opset 18. No axes means all axes,
/// unless `noop_with_empty_axes` = 1 (opset 18), which makes the node an identity.
package enum ReduceMeanOp: OperatorDefinition {
    static let opType = "ReduceMean"

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "data")
        let keep = (c.node.int("keepdims") ?? 1) != 0
        guard let shape = x.shape else { return [facts(x.dtype, nil)] }
        let axesInput = c.opset >= 18 ? c.input(1) : nil
        if let axesInput, axesInput.constant == nil {
            // Axes computed at run time: the rank is known when keepdims = 1 or the axes count is known.
            if keep { return [facts(x.dtype, Shape(repeating: .unknown, count: shape.count))] }
            if let n = axesInput.shape?.concrete?.first {
                return [facts(x.dtype, Shape(repeating: .unknown, count: shape.count - n))]
            }
            return [facts(x.dtype, nil)]
        }
        let r = try ReduceParameters(node: c.node, opset: c.opset, rank: shape.count, axes: axesInput?.constant)
        if r.isIdentity { return [facts(x.dtype, shape)] }
        var out = Shape()
        for (i, d) in shape.enumerated() {
            if r.axes.contains(i) {
                if let v = d.value, v == 0 { throw c.fail("cannot take the mean of an empty axis \(i)") }
                if keep { out.append(1) }
            } else {
                out.append(d)
            }
        }
        return [facts(x.dtype, out)]
    }
}

/// The resolved axes of a reduction (ReduceMean), for kernels.
public struct ReduceParameters: Sendable, Hashable {
    /// Sorted, non-negative axes; empty when the node is an identity.
    public var axes: [Int]
    public var keepDims: Bool
    /// `noop_with_empty_axes` = 1 with no axes: the output is the input.
    public var isIdentity: Bool

    /// Reads `axes` from the attribute (opset < 18) or from the given constant `axes` input (opset ≥ 18).
    public init(node: Node, opset: Int, rank: Int, axes axesInput: Tensor?) throws {
        keepDims = (node.int("keepdims") ?? 1) != 0
        var list = opset >= 18 ? (axesInput?.ints ?? []) : (node.ints("axes") ?? [])
        if opset >= 18, let t = axesInput, t.rank > 1 {
            throw IRError.invalidNode(node: node.label, message: "axes must be 1-D, got shape \(t.shape)")
        }
        if list.isEmpty {
            if opset >= 18, node.int("noop_with_empty_axes") == 1 {
                axes = []
                isIdentity = true
                return
            }
            list = Array(0..<rank)
        }
        axes = try normalizedAxes(list, rank: rank, node: node).sorted()
        isIdentity = false
    }
}
