import Foundation

/// `Softmax`: y = e^(x − max) / Σ e^(x − max) along `axis`. From opset 13 the sum runs over the single axis
/// (default −1); before 13 the input is coerced to 2-D `[d0…d(axis−1), d(axis)…d(r−1)]` (default axis 1) and
/// the sum runs over everything from `axis` on.
package enum SoftmaxOp: OperatorDefinition {
    static let opType = "Softmax"

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "input")
        if let t = x.dtype, !t.isFloatingPoint { throw c.fail("needs a float input, got \(t)") }
        if let s = x.shape {
            let axis = axis(c.node, opset: c.opset)
            let r = s.count
            let a = axis < 0 ? axis + r : axis
            guard a >= 0, a < max(r, 1) else { throw c.fail("axis \(axis) is out of range for rank \(r)") }
        }
        return [facts(x.dtype, x.shape)]
    }

    /// `axis`, or its opset's default: −1 from opset 13, 1 before.
    static func axis(_ node: Node, opset: Int) -> Int { node.int("axis") ?? (opset >= 13 ? -1 : 1) }

    static func reference(_ c: EvaluationContext) throws -> [Tensor] {
        [try softmax(try c.required(0, "input"), node: c.node, opset: c.opset)]
    }

    /// e^(x − max) / Σ e^(x − max) over each softmax group, in Double.
    static func softmax(_ x: Tensor, node: Node, opset: Int) throws -> Tensor {
        try x.requireFloat(node)
        let layout = try SoftmaxLayout(node: node, opset: opset, shape: x.shape)
        var y = x.referenceDoubles
        let (n, inner) = (layout.n, layout.inner)
        for o in 0..<layout.outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var mx = -Double.infinity
                for j in 0..<n { mx = max(mx, y[base + j * inner]) }
                var sum = 0.0
                for j in 0..<n {
                    let e = exp(y[base + j * inner] - mx)
                    y[base + j * inner] = e
                    sum += e
                }
                for j in 0..<n { y[base + j * inner] /= sum }
            }
        }
        return Tensor.reference(x.dtype, shape: x.shape, y)
    }
}

/// Softmax over a concrete shape as `outer × n × inner` groups: element (o, j, i) is at `(o·n + j)·inner + i`
/// and the sum runs over j.
public struct SoftmaxLayout: Sendable, Hashable {
    public var outer: Int
    public var n: Int
    public var inner: Int
    /// The node's axis, its opset's default when absent (−1 from 13, else 1), made non-negative.
    public var axis: Int

    public init(node: Node, opset: Int, shape: [Int]) throws {
        let r = shape.count
        let axis = SoftmaxOp.axis(node, opset: opset)
        if r == 0 {
            (outer, n, inner, self.axis) = (1, 1, 1, 0)
            return
        }
        let a = try normalizedAxis(axis, rank: r, node: node)
        self.axis = a
        outer = shape[..<a].reduce(1, *)
        if opset >= 13 {
            n = shape[a]
            inner = shape[(a + 1)...].reduce(1, *)
        } else {
            n = shape[a...].reduce(1, *)
            inner = 1
        }
    }
}
