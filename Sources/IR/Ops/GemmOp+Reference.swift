/// The scalar references of Gemm and MatMul (a matrix product with Double accumulation; MatMul is Gemm's
/// batched, attribute-free sibling and shares its helpers).
extension GemmOp {
    static func reference(_ c: EvaluationContext) throws -> [Tensor] {
        [try gemm(try c.required(0, "A"), try c.required(1, "B"), c.input(2), node: c.node)]
    }

    /// Y = α·A′·B′ + β·C with Double accumulation; C broadcast to M×N (ONNX unidirectional broadcasting).
    static func gemm(_ a: Tensor, _ b: Tensor, _ c: Tensor?, node: Node) throws -> Tensor {
        try a.requireFloat(node)
        guard a.rank == 2, b.rank == 2 else {
            throw IRError.invalidNode(
                node: node.label, message: "Gemm needs 2-D A and B, got \(a.shape) and \(b.shape)")
        }
        let g = GemmOp.Attributes(node)
        let (ta, tb) = (g.transA, g.transB)
        let (alpha, beta) = (Double(g.alpha), Double(g.beta))
        let at = ta ? transpose2D(a.referenceDoubles, rows: a.shape[0], cols: a.shape[1]) : a.referenceDoubles
        let bt = tb ? transpose2D(b.referenceDoubles, rows: b.shape[0], cols: b.shape[1]) : b.referenceDoubles
        let (m, k) = ta ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = tb ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == k2 else {
            throw IRError.invalidNode(node: node.label, message: "A′ is \(m)×\(k) but B′ is \(k2)×\(n)")
        }
        var y = matrixProduct(at, bt, m: m, k: k, n: n)
        for i in 0..<y.count { y[i] *= alpha }
        if let c, beta != 0 {
            guard let shape = broadcastTarget(c.shape, to: [m, n]) else {
                throw IRError.invalidNode(node: node.label, message: "C \(c.shape) cannot be broadcast to [\(m), \(n)]")
            }
            let cv = c.referenceDoubles
            let rs = shape[0] == 1 ? 0 : shape[1]
            let cs = shape[1] == 1 ? 0 : 1
            for i in 0..<m { for j in 0..<n { y[i * n + j] += beta * cv[i * rs + j * cs] } }
        }
        return Tensor.reference(a.dtype, shape: [m, n], y)
    }

    /// Row-major (m×k)·(k×n), i-k-j order with a Double row accumulator.
    static func matrixProduct(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
        var y = [Double](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                y.withUnsafeMutableBufferPointer { yp in
                    for i in 0..<m {
                        for p in 0..<k {
                            let av = ap[i * k + p]
                            let row = p * n
                            for j in 0..<n { yp[i * n + j] += av * bp[row + j] }
                        }
                    }
                }
            }
        }
        return y
    }

    static func transpose2D(_ v: [Double], rows: Int, cols: Int) -> [Double] {
        var t = [Double](repeating: 0, count: v.count)
        for r in 0..<rows { for c in 0..<cols { t[c * rows + r] = v[r * cols + c] } }
        return t
    }

    /// `shape` right-aligned into a 2-D target with 1s where it is missing, or nil when it does not fit.
    static func broadcastTarget(_ shape: [Int], to target: [Int]) -> [Int]? {
        guard shape.count <= target.count else { return nil }
        let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
        for (s, t) in zip(padded, target) where s != 1 && s != t { return nil }
        return padded
    }

    static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: r - a.count) + a
        let pb = [Int](repeating: 1, count: r - b.count) + b
        var out = [Int]()
        for (x, y) in zip(pa, pb) {
            guard x == y || x == 1 || y == 1 else { return nil }
            out.append(max(x, y) == 0 || min(x, y) == 0 ? 0 : max(x, y))
        }
        return out
    }

    /// For each position of `target` (row-major), the flat index in `shape` it reads when broadcast.
    static func broadcastIndices(_ shape: [Int], to target: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
        var strides = [Int](repeating: 0, count: padded.count)
        var s = 1
        for d in stride(from: padded.count - 1, through: 0, by: -1) {
            strides[d] = padded[d] == 1 ? 0 : s
            s *= padded[d]
        }
        let total = target.reduce(1, *)
        var out = [Int](repeating: 0, count: total)
        for i in 0..<total {
            var rest = i
            var index = 0
            for d in stride(from: target.count - 1, through: 0, by: -1) {
                index += (rest % target[d]) * strides[d]
                rest /= target[d]
            }
            out[i] = index
        }
        return out
    }
}

extension MatMulOp {
    static func reference(_ c: EvaluationContext) throws -> [Tensor] {
        [try matMul(try c.required(0, "A"), try c.required(1, "B"), node: c.node)]
    }

    /// NumPy matmul: batched over broadcast leading dimensions, 1-D operands promoted and squeezed back.
    static func matMul(_ a: Tensor, _ b: Tensor, node: Node) throws -> Tensor {
        try a.requireFloat(node)
        guard a.rank >= 1, b.rank >= 1 else {
            throw IRError.invalidNode(node: node.label, message: "MatMul inputs must have rank ≥ 1")
        }
        let sa = a.rank == 1 ? [1, a.shape[0]] : a.shape
        let sb = b.rank == 1 ? [b.shape[0], 1] : b.shape
        let (m, k) = (sa[sa.count - 2], sa[sa.count - 1])
        let (k2, n) = (sb[sb.count - 2], sb[sb.count - 1])
        let batchA = Array(sa.dropLast(2))
        let batchB = Array(sb.dropLast(2))
        guard k == k2, let batch = GemmOp.broadcastShape(batchA, batchB) else {
            throw IRError.invalidNode(node: node.label, message: "cannot multiply \(a.shape) by \(b.shape)")
        }
        let av = a.referenceDoubles
        let bv = b.referenceDoubles
        let count = batch.reduce(1, *)
        let ia = GemmOp.broadcastIndices(batchA, to: batch)
        let ib = GemmOp.broadcastIndices(batchB, to: batch)
        var y = [Double]()
        y.reserveCapacity(count * m * n)
        for t in 0..<count {
            let am = Array(av[(ia[t] * m * k)..<((ia[t] + 1) * m * k)])
            let bm = Array(bv[(ib[t] * k * n)..<((ib[t] + 1) * k * n)])
            y += GemmOp.matrixProduct(am, bm, m: m, k: k, n: n)
        }
        var shape = batch
        if a.rank > 1 { shape.append(m) }
        if b.rank > 1 { shape.append(n) }
        return Tensor.reference(a.dtype, shape: shape, y)
    }
}
