/// `Reshape`: the same elements under the shape given by the `shape` input (attribute before opset 5).
///
/// In the requested shape, 0 copies the input's dimension at that position (unless `allowzero` = 1, opset 14)
/// and one −1 takes whatever size keeps the element count. Symbols cancel: `[N,1280,1,1]` reshaped to
/// `[0,−1]` or `[N,−1]` gives `[N,1280]`.
package enum ReshapeOp: OperatorDefinition {
    static let opType = "Reshape"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "data")
        let requested: [Dim]
        if c.opset < 5 {
            requested = try c.node.requiredInts("shape").map { .known($0) }
        } else {
            let s = try c.required(1, "shape")
            if let t = s.dtype, t != .int64 { throw c.fail("shape must be int64, got \(t)") }
            guard let e = s.knownElements else {
                if let n = s.shape?.concrete?.first { return [facts(x.dtype, Shape(repeating: .unknown, count: n))] }
                return [facts(x.dtype, nil)]
            }
            requested = e
        }
        let out = try resolve(requested, input: x.shape, allowZero: c.node.int("allowzero") == 1, node: c.node)
        var result = facts(x.dtype, out)
        result.elements = x.elements
        return [result]
    }

    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let x = try c.required(0, "data")
        let requested = c.opset < 5 ? try c.node.requiredInts("shape") : try c.required(1, "shape").ints
        let out = try resolve(
            requested.map { .known($0) }, input: Shape(x.shape), allowZero: c.node.int("allowzero") == 1, node: c.node)
        return [x.reshaped(out.concrete!)]
    }

    /// The output shape for a requested shape whose entries may be symbolic or unknown.
    static func resolve(_ requested: [Dim], input: Shape?, allowZero: Bool, node: Node) throws -> Shape {
        let fail = { (m: String) in IRError.invalidNode(node: node.label, message: m) }
        var out = Shape()
        var inferIndex: Int?
        for (i, d) in requested.enumerated() {
            switch d {
            case .known(0) where !allowZero:
                guard let input else {
                    out.append(.unknown)
                    continue
                }
                guard i < input.count else { throw fail("shape entry \(i) is 0 but the input has rank \(input.count)") }
                out.append(input[i])
            case .known(-1):
                guard inferIndex == nil else { throw fail("shape \(requested.text) has more than one −1") }
                inferIndex = i
                out.append(.unknown)
            case .known(let v) where v < 0:
                throw fail("shape entry \(v) is invalid")
            default:
                out.append(d)
            }
        }
        if allowZero, inferIndex != nil, out.contains(.known(0)) {
            throw fail("allowzero shape \(requested.text) has both 0 and −1")
        }
        guard let input else { return out }
        let inFactors = Factors(input)
        if let k = inferIndex {
            var others = out
            others.remove(at: k)
            let outFactors = Factors(others)
            out[k] = try inFactors.quotient(by: outFactors, fail: fail, shapes: (input, requested))
        } else if let a = inFactors.knownTotal, let b = Factors(out).knownTotal, a != b {
            throw fail("cannot reshape \(input.text) (\(a) elements) to \(out.text) (\(b) elements)")
        }
        return out
    }

    /// A product of dims as a known factor times a multiset of symbols, or unknown.
    struct Factors {
        var known = 1
        var symbols = [String]()
        var hasUnknown = false

        init(_ dims: Shape) {
            for d in dims {
                switch d {
                case .known(let v): known *= v
                case .symbol(let s): symbols.append(s)
                case .unknown: hasUnknown = true
                }
            }
        }

        var knownTotal: Int? { hasUnknown || !symbols.isEmpty ? nil : known }

        /// self / other as a dim: known, a lone remaining symbol, or unknown.
        func quotient(by other: Factors, fail: (String) -> IRError, shapes: (Shape, [Dim])) throws -> Dim {
            if hasUnknown || other.hasUnknown { return .unknown }
            var remaining = symbols
            for s in other.symbols {
                guard let i = remaining.firstIndex(of: s) else { return .unknown }
                remaining.remove(at: i)
            }
            if other.known == 0 {
                // 0 elements spread over a −1 is ambiguous; symbols may still make it 0 at run time.
                if known == 0, !symbols.isEmpty || !other.symbols.isEmpty { return .unknown }
                throw fail("cannot infer −1 in \(shapes.1.text) next to a zero-sized dimension")
            }
            guard known % other.known == 0 else {
                if remaining.isEmpty {
                    throw fail(
                        "cannot reshape \(shapes.0.text) to \(shapes.1.text): \(known) is not divisible by \(other.known)"
                    )
                }
                return .unknown
            }
            let ratio = known / other.known
            switch remaining.count {
            case 0: return .known(ratio)
            case 1: return ratio == 1 ? .symbol(remaining[0]) : .unknown
            default: return .unknown
            }
        }
    }
}
