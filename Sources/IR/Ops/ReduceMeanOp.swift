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

    static func reference(_ c: EvaluationContext) throws -> [Tensor] {
        [try reduceMean(try c.required(0, "data"), axes: c.opset >= 18 ? c.input(1) : nil, node: c.node, opset: c.opset)]
    }

    /// The mean over the resolved axes, accumulated in Double.
    static func reduceMean(_ x: Tensor, axes: Tensor?, node: Node, opset: Int) throws -> Tensor {
        try x.requireFloat(node)
        let r = try ReduceParameters(node: node, opset: opset, rank: x.rank, axes: axes)
        if r.isIdentity { return x }
        let reduced = Set(r.axes)
        let strides = rowMajorStrides(x.shape)
        var outFull = x.shape
        for a in reduced { outFull[a] = 1 }
        let outStrides = rowMajorStrides(outFull)
        let xs = x.referenceDoubles
        var sums = [Double](repeating: 0, count: outFull.reduce(1, *))
        let count = r.axes.reduce(1) { $0 * x.shape[$1] }
        if let first = r.axes.first, r.axes == Array(first..<x.rank) {
            // Trailing axes: each output sums one contiguous run.
            let run = x.shape[first...].reduce(1, *)
            for o in 0..<sums.count {
                var s = 0.0
                for p in (o * run)..<((o + 1) * run) { s += xs[p] }
                sums[o] = s
            }
        } else {
            for i in 0..<xs.count {
                var o = 0
                for d in 0..<x.rank where !reduced.contains(d) { o += (i / strides[d]) % x.shape[d] * outStrides[d] }
                sums[o] += xs[i]
            }
        }
        let divisor = Double(max(count, 1))
        let mean = sums.map { count == 0 ? .nan : $0 / divisor }
        let outShape =
            r.keepDims ? outFull : x.shape.enumerated().filter { !reduced.contains($0.offset) }.map(\.element)
        return Tensor.reference(x.dtype, shape: outShape, mean)
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
