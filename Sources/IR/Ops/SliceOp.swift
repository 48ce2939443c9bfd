/// `Slice`: takes `[start, end)` with `step` along each listed axis (opset ≥ 10: `starts`, `ends`, optional
/// `axes`, `steps` inputs; opset 1-9: attributes, step 1).
///
/// Per axis of size d: negative start/end add d; then for step > 0 both clamp to [0, d], for step < 0 start
/// clamps to [0, d−1] and end to [−1, d−1]; the count is max(0, ⌈(end − start) / step⌉). So `ends` of
/// INT64_MAX means "to the end" and `starts = −1, ends = INT64_MIN, steps = −1` reverses.
package enum SliceOp: OperatorDefinition {
    static let opType = "Slice"
    static let isEvaluable = true

    /// Per-axis slice parameters before the data shape is applied.
    struct Parameters {
        var starts: [Int]
        var ends: [Int]
        var axes: [Int]?
        var steps: [Int]
    }

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "data")
        guard let s = x.shape else { return [facts(x.dtype, nil)] }
        guard
            let p = try parameters(
                c.node, opset: c.opset, values: { c.input($0)?.knownInts }, present: { c.input($0) != nil })
        else {
            // Parameters computed at run time: the rank survives, sliced sizes do not.
            let axes = c.opset >= 10 ? c.input(3)?.knownInts : nil
            let sliced = try axes.map { Set(try normalizedAxes($0, rank: s.count, node: c.node)) }
            return [facts(x.dtype, s.enumerated().map { sliced?.contains($0.offset) == false ? $0.element : .unknown })]
        }
        let axes = try normalizedAxes(p.axes ?? Array(0..<p.starts.count), rank: s.count, node: c.node)
        var out = s
        var ranges = [(Int, Int, Int)?](repeating: nil, count: s.count)
        for (i, a) in axes.enumerated() {
            if let d = s[a].value {
                let r = range(start: p.starts[i], end: p.ends[i], step: p.steps[i], size: d)
                ranges[a] = r
                out[a] = .known(count(r))
            } else if p.starts[i] == 0, p.steps[i] == 1, p.ends[i] >= Int(Int32.max) {
                continue  // the whole axis: a symbol survives
            } else {
                out[a] = .unknown
            }
        }
        var result = facts(x.dtype, out)
        if let e = x.knownElements, let dims = s.concrete {
            result.elements = plan(dims, ranges: ranges).apply([e])
        }
        return [result]
    }

    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let x = try c.required(0, "data")
        let p = try parameters(c.node, opset: c.opset, values: { c.input($0)?.ints }, present: { c.input($0) != nil })!
        let axes = try normalizedAxes(p.axes ?? Array(0..<p.starts.count), rank: x.rank, node: c.node)
        var ranges = [(Int, Int, Int)?](repeating: nil, count: x.rank)
        for (i, a) in axes.enumerated() {
            ranges[a] = range(start: p.starts[i], end: p.ends[i], step: p.steps[i], size: x.shape[a])
        }
        return [plan(x.shape, ranges: ranges).apply([x])]
    }

    /// Reads the parameters from attributes or inputs; nil when an input's value is not known.
    static func parameters(
        _ node: Node, opset: Int, values: (Int) -> [Int]?, present: (Int) -> Bool
    ) throws -> Parameters? {
        let fail = { (m: String) in IRError.invalidNode(node: node.label, message: m) }
        var p: Parameters
        if opset < 10 {
            let starts = try node.requiredInts("starts")
            p = Parameters(
                starts: starts, ends: try node.requiredInts("ends"), axes: node.ints("axes"),
                steps: [Int](repeating: 1, count: starts.count))
        } else {
            guard present(1), present(2) else { throw fail("Slice needs starts and ends inputs") }
            guard let starts = values(1), let ends = values(2) else { return nil }
            var axes: [Int]?
            if present(3) {
                guard let a = values(3) else { return nil }
                axes = a
            }
            var steps = [Int](repeating: 1, count: starts.count)
            if present(4) {
                guard let s = values(4) else { return nil }
                steps = s
            }
            p = Parameters(starts: starts, ends: ends, axes: axes, steps: steps)
        }
        let n = p.starts.count
        guard p.ends.count == n, p.steps.count == n, p.axes.map({ $0.count == n }) ?? true else {
            throw fail("starts, ends, axes and steps must have the same length")
        }
        if p.steps.contains(0) { throw fail("steps must not be 0") }
        return p
    }

    /// (clamped start, clamped end, step) for one axis of size `size`.
    static func range(start: Int, end: Int, step: Int, size d: Int) -> (Int, Int, Int) {
        var s = start < 0 ? start + d : start
        var e = end < 0 ? end + d : end
        if step > 0 {
            s = min(max(s, 0), d)
            e = min(max(e, 0), d)
        } else {
            s = min(max(s, 0), d - 1)
            e = min(max(e, -1), d - 1)
        }
        return (s, e, step)
    }

    static func count(_ r: (Int, Int, Int)) -> Int {
        let (s, e, step) = r
        if step > 0 { return e > s ? (e - s + step - 1) / step : 0 }
        return s > e ? (s - e - step - 1) / -step : 0
    }

    static func plan(_ shape: [Int], ranges: [(Int, Int, Int)?]) -> GatherPlan {
        let strides = rowMajorStrides(shape)
        var out = [Int]()
        var tables = [[Int]]()
        for d in 0..<shape.count {
            if let r = ranges[d] {
                let n = count(r)
                out.append(n)
                tables.append((0..<n).map { (r.0 + $0 * r.2) * strides[d] })
            } else {
                out.append(shape[d])
                tables.append((0..<shape[d]).map { $0 * strides[d] })
            }
        }
        return GatherPlan(shape: out, sources: GatherPlan.sources(shape: out, tables: tables))
    }
}
