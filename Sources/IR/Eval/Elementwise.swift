/// The four broadcasting arithmetic operators (Add, Sub, Mul, Div), shared by their op files.
///
/// Floats are computed in Double and rounded once to the input dtype (for +, −, ×, ÷ this equals the IEEE
/// result in that dtype, since Double has more than 2p+2 bits). Integers are exact in Int64 and wrapped to
/// their width; integer division truncates toward zero, as onnxruntime does (checked: −7/2 = −3).
enum Arithmetic: Sendable {
    case add, sub, mul, div

    func apply(_ a: Double, _ b: Double) -> Double {
        switch self {
        case .add: a + b
        case .sub: a - b
        case .mul: a * b
        case .div: a / b
        }
    }

    func apply(_ a: Int64, _ b: Int64) -> Int64? {
        switch self {
        case .add: a &+ b
        case .sub: a &- b
        case .mul: a &* b
        case .div: b == 0 ? nil : (a == .min && b == -1 ? a : a / b)
        }
    }

    /// Partial knowledge: known ⊕ known is known; `s + 0`, `s − 0`, `s × 1`, `s ÷ 1` keep the symbol.
    func apply(_ a: Dim, _ b: Dim) -> Dim {
        switch (a, b) {
        case (.known(let x), .known(let y)):
            return apply(Int64(x), Int64(y)).map { .known(Int($0)) } ?? .unknown
        case (.symbol, .known(let y)):
            switch self {
            case .add, .sub: return y == 0 ? a : .unknown
            case .mul, .div: return y == 1 ? a : .unknown
            }
        case (.known(let x), .symbol):
            switch self {
            case .add: return x == 0 ? b : .unknown
            case .mul: return x == 1 ? b : .unknown
            default: return .unknown
            }
        default:
            return .unknown
        }
    }

    /// Type and shape (opset < 7: the legacy `broadcast`/`axis` attributes), plus partial elements.
    func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let a = try c.required(0, "A")
        var b = try c.required(1, "B")
        if let x = a.dtype, let y = b.dtype, x != y {
            throw c.fail("input types differ (\(x) and \(y))")
        }
        if c.opset < 7, let bs = b.shape {
            b.shape = try Arithmetic.legacyShape(bs, aRank: a.rank, node: c.node)
        }
        let shape = try Broadcast.shape([a.shape, b.shape], node: c.node)
        var out = facts(a.dtype ?? b.dtype, shape)
        if let outDims = shape?.concrete, outDims.reduce(1, *) <= ValueFacts.elementLimit,
            let ea = a.knownElements, let eb = b.knownElements,
            let sa = a.shape?.concrete, let sb = b.shape?.concrete
        {
            let ia = Broadcast.sourceIndices(of: sa, in: outDims)
            let ib = Broadcast.sourceIndices(of: sb, in: outDims)
            out.elements = zip(ia, ib).map { apply(ea[$0], eb[$1]) }
        }
        return [out]
    }

    func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let a = try c.required(0, "A")
        var b = try c.required(1, "B")
        guard a.dtype == b.dtype else { throw c.fail("input types differ (\(a.dtype) and \(b.dtype))") }
        if c.opset < 7 {
            b = b.reshaped(try Arithmetic.legacyShape(Shape(b.shape), aRank: a.rank, node: c.node).concrete!)
        }
        guard let out = Broadcast.shape(a.shape, b.shape) else {
            throw c.fail("shapes \(Shape(a.shape).text) and \(Shape(b.shape).text) cannot be broadcast")
        }
        if a.dtype.isFloatingPoint {
            let x = a.doubleValues
            let y = b.doubleValues
            var r = [Double](repeating: 0, count: out.reduce(1, *))
            r.withUnsafeMutableBufferPointer { rp in
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeBufferPointer { yp in
                        Broadcast.forEachRun(out: out, a: a.shape, b: b.shape) { o, ia, sa, ib, sb, n in
                            switch self {
                            case .add: for j in 0..<n { rp[o + j] = xp[ia + j * sa] + yp[ib + j * sb] }
                            case .sub: for j in 0..<n { rp[o + j] = xp[ia + j * sa] - yp[ib + j * sb] }
                            case .mul: for j in 0..<n { rp[o + j] = xp[ia + j * sa] * yp[ib + j * sb] }
                            case .div: for j in 0..<n { rp[o + j] = xp[ia + j * sa] / yp[ib + j * sb] }
                            }
                        }
                    }
                }
            }
            return [Tensor.rounding(r, to: a.dtype, shape: out)]
        }
        guard a.dtype.isInteger else { throw c.fail("\(c.node.opType) is not defined for \(a.dtype)") }
        let x = a.exactInt64s
        let y = b.exactInt64s
        var r = [Int64](repeating: 0, count: out.reduce(1, *))
        var divisionByZero = false
        Broadcast.forEachRun(out: out, a: a.shape, b: b.shape) { o, ia, sa, ib, sb, n in
            for j in 0..<n {
                if let v = apply(x[ia + j * sa], y[ib + j * sb]) { r[o + j] = v } else { divisionByZero = true }
            }
        }
        if divisionByZero { throw c.fail("integer division by zero") }
        return [Tensor.wrapping(r, to: a.dtype, shape: out)]
    }

    /// Opset < 7 `broadcast=1`: B's dimensions align with A's starting at `axis` (default: trailing).
    static func legacyShape(_ b: Shape, aRank: Int?, node: Node) throws -> Shape {
        guard node.int("broadcast") == 1, let aRank else { return b }
        let axis = node.int("axis").map { $0 < 0 ? $0 + aRank : $0 } ?? (aRank - b.count)
        guard axis >= 0, axis + b.count <= aRank else {
            throw IRError.invalidNode(node: node.label, message: "legacy broadcast axis \(axis) does not fit")
        }
        return b + Shape([Int](repeating: 1, count: aRank - axis - b.count))
    }
}

/// Single-input float maps (activations, Ceil, Floor), computed in Double and rounded to the input dtype.
enum UnaryMap {
    static func infer(_ c: InferenceContext, floatOnly: Bool = true) throws -> [ValueFacts] {
        let x = try c.required(0, "X")
        if floatOnly, let t = x.dtype, !t.isFloatingPoint {
            throw c.fail("\(c.node.opType) needs a float input, got \(t)")
        }
        return [facts(x.dtype, x.shape)]
    }

    static func evaluate(_ c: EvaluationContext, _ f: (Double) -> Double) throws -> [Tensor] {
        let x = try c.required(0, "X")
        if x.dtype.isFloatingPoint {
            return [Tensor.rounding(x.doubleValues.map(f), to: x.dtype, shape: x.shape)]
        }
        guard x.dtype.isInteger else { throw c.fail("\(c.node.opType) is not defined for \(x.dtype)") }
        return [Tensor(dtype: x.dtype, shape: x.shape, values: x.doubles.map(f))]
    }
}
