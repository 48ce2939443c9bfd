/// `Pad`: grows (or, with negative pads, crops) each axis by `pads = [b₁…b_r, e₁…e_r]`; modes `constant`
/// (default, `constant_value` / `value`, default 0), `reflect` (mirror without repeating the edge), `edge`
/// (repeat the edge) and `wrap` (periodic).
///
/// Pads are an attribute before opset 11 (`paddings` in opset 1) and an int64 input from 11; opset 18 adds an
/// optional `axes` input naming which axes the pads are for. Output size per axis: in + b + e.
package enum PadOp: OperatorDefinition {
    static let opType = "Pad"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "data")
        _ = try mode(c.node)
        guard let s = x.shape else { return [facts(x.dtype, nil)] }
        let r = s.count
        var axes = Array(0..<r)
        if c.opset >= 18, let a = c.input(3) {
            guard let v = a.knownInts else { return [facts(x.dtype, Shape(repeating: .unknown, count: r))] }
            axes = try normalizedAxes(v, rank: r, node: c.node)
        }
        let pads: [Dim]
        if c.opset < 11 {
            pads = try attributePads(c.node).map { .known($0) }
        } else {
            let p = try c.required(1, "pads")
            if let t = p.dtype, t != .int64 { throw c.fail("pads must be int64, got \(t)") }
            guard let e = p.knownElements else { return [facts(x.dtype, Shape(repeating: .unknown, count: r))] }
            pads = e
        }
        guard pads.count == 2 * axes.count else {
            throw c.fail("pads has \(pads.count) entries for \(axes.count) padded axes of input \(s.text)")
        }
        var out = s
        for (i, a) in axes.enumerated() {
            let (b, e) = (pads[i], pads[i + axes.count])
            guard let bv = b.value, let ev = e.value else {
                out[a] = .unknown
                continue
            }
            out[a] = s[a].adding(bv + ev)
            if let v = out[a].value, v < 0 { throw c.fail("pads \(pads.text) crop axis \(a) of \(s.text) below zero") }
        }
        var result = facts(x.dtype, out)
        if let e = x.elements, let dims = s.concrete, let known = pads.concrete {
            let plan = try plan(dims, axes: axes, pads: known, mode: try mode(c.node), node: c.node)
            result.elements = plan.apply([e], fill: c.input(2)?.knownElements?.first ?? .known(0))
        }
        return [result]
    }

    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let x = try c.required(0, "data")
        let p = try padding(c.node, opset: c.opset, shape: x.shape, dtype: x.dtype) { c.input($0) }
        return [try plan(x.shape, axes: p.axes, pads: p.pads, mode: p.mode, node: c.node).apply([x], fill: p.fill)]
    }

    /// A Pad node read for an input of `shape`: the one reading of its opset forms (pads and `value` attributes
    /// before 11; `pads`, `constant_value` and, from 18, `axes` inputs after), for the reference and the runtime.
    package struct Padding {
        package var mode: String
        /// The padded axes (every axis unless `axes` names some), and their pads [b₁…b_k, e₁…e_k].
        package var axes: [Int]
        package var pads: [Int]
        /// The constant-mode fill, a scalar.
        package var fill: Tensor

        /// (begin, end) pads of `axis`; (0, 0) for an axis not padded.
        package func pads(ofAxis axis: Int) -> (begin: Int, end: Int) {
            guard let i = axes.firstIndex(of: axis) else { return (0, 0) }
            return (pads[i], pads[i + axes.count])
        }
    }

    /// `Padding` for an input of `shape` and `dtype`; `input(i)` gives the value of input i (nil when absent).
    package static func padding(
        _ node: Node, opset: Int, shape: [Int], dtype: DType, input: (Int) throws -> Tensor?
    ) throws -> Padding {
        let fail = { (m: String) in IRError.invalidNode(node: node.label, message: m) }
        var axes = Array(0..<shape.count)
        if opset >= 18, let a = try input(3) { axes = try normalizedAxes(a.ints, rank: shape.count, node: node) }
        let pads: [Int]
        if opset < 11 {
            pads = try attributePads(node)
        } else {
            guard let p = try input(1) else { throw fail("missing required input 1 (pads)") }
            pads = p.ints
        }
        guard pads.count == 2 * axes.count else {
            throw fail("pads has \(pads.count) entries for \(axes.count) padded axes of input \(shape)")
        }
        let fill: Tensor
        if opset < 11 {
            fill = Tensor(dtype: .float64, shape: [], values: [Double(node.float("value") ?? 0)])
        } else if let v = try input(2) {
            guard v.count == 1 else { throw fail("constant_value must be a scalar, got shape \(v.shape)") }
            fill = v.reshaped([])
        } else {
            fill = Tensor.zeros(dtype, shape: [])
        }
        return Padding(mode: try mode(node), axes: axes, pads: pads, fill: fill)
    }

    static func attributePads(_ node: Node) throws -> [Int] {
        guard let p = node.ints("pads") ?? node.ints("paddings") else {
            throw IRError.invalidNode(node: node.label, message: "missing attribute 'pads'")
        }
        return p
    }

    static func mode(_ node: Node) throws -> String {
        let m = node.string("mode") ?? "constant"
        guard ["constant", "reflect", "edge", "wrap"].contains(m) else {
            throw IRError.invalidNode(node: node.label, message: "unknown pad mode '\(m)'")
        }
        return m
    }

    static func plan(_ shape: [Int], axes: [Int], pads: [Int], mode: String, node: Node) throws -> GatherPlan {
        var begin = [Int](repeating: 0, count: shape.count)
        var end = [Int](repeating: 0, count: shape.count)
        for (i, a) in axes.enumerated() {
            begin[a] = pads[i]
            end[a] = pads[i + axes.count]
        }
        let strides = rowMajorStrides(shape)
        var out = [Int]()
        for d in 0..<shape.count {
            let (partial, o1) = shape[d].addingReportingOverflow(begin[d])
            let (n, o2) = partial.addingReportingOverflow(end[d])
            guard !o1, !o2 else {
                throw IRError.invalidNode(
                    node: node.label, message: "pads \(pads) overflow 64-bit arithmetic on axis \(d) of \(shape)")
            }
            guard n >= 0 else {
                throw IRError.invalidNode(
                    node: node.label, message: "pads \(pads) crop axis \(d) of \(shape) below zero")
            }
            if n > 0, shape[d] == 0, mode != "constant" {
                throw IRError.invalidNode(node: node.label, message: "cannot \(mode)-pad an empty axis \(d)")
            }
            out.append(n)
        }
        // The gather plan holds one 8-byte source index per output element (and the result its elements).
        try MemoryBudget.check(shape: out, elementSize: 8, for: "Pad node '\(node.label)' output \(out)")
        var tables = [[Int]]()
        for d in 0..<shape.count {
            let n = out[d]
            tables.append(
                (0..<n).map { o in
                    let i = source(o - begin[d], size: shape[d], mode: mode)
                    return i < 0 ? GatherPlan.fill : i * strides[d]
                })
        }
        return GatherPlan(shape: out, sources: GatherPlan.sources(shape: out, tables: tables))
    }

    /// The input coordinate an output coordinate reads (−1 for the constant).
    static func source(_ i: Int, size n: Int, mode: String) -> Int {
        if i >= 0 && i < n { return i }
        switch mode {
        case "edge": return i < 0 ? 0 : n - 1
        case "wrap": return ((i % n) + n) % n
        case "reflect":
            if n == 1 { return 0 }
            let period = 2 * (n - 1)
            let m = ((i % period) + period) % period
            return m < n ? m : period - m
        default: return -1
        }
    }
}
