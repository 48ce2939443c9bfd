/// NumPy-style multidirectional broadcasting (ONNX "Broadcasting in ONNX"): shapes are aligned on their
/// trailing dimensions, a dimension of 1 stretches to the other, equal dimensions stay.
enum Broadcast {
    /// The broadcast of symbolic shapes, or nil when some rank is unknown.
    ///
    /// A symbolic or unknown dimension against a known `k > 1` yields `k` (the symbol can only be `k` or 1);
    /// two different symbols yield unknown. Two known sizes that differ and are not 1 are an error.
    static func shape(_ shapes: [Shape?], node: Node) throws -> Shape? {
        var ranks = [Int]()
        for s in shapes {
            guard let s else { return nil }
            ranks.append(s.count)
        }
        let rank = ranks.max() ?? 0
        var out = [Dim](repeating: .known(1), count: rank)
        for s in shapes {
            let s = s!
            let offset = rank - s.count
            for (i, d) in s.enumerated() {
                out[offset + i] = try combine(out[offset + i], d, node: node, shapes: shapes)
            }
        }
        return out
    }

    private static func combine(_ a: Dim, _ b: Dim, node: Node, shapes: [Shape?]) throws -> Dim {
        switch (a, b) {
        case (.known(1), _): return b
        case (_, .known(1)): return a
        case (.known(let x), .known(let y)):
            if x == y { return a }
            throw IRError.invalidNode(
                node: node.label,
                message: "shapes \(shapes.map { $0?.text ?? "[?]" }.joined(separator: " and ")) cannot be broadcast")
        case (.known, _): return a
        case (_, .known): return b
        case (.symbol(let x), .symbol(let y)): return x == y ? a : .unknown
        default: return .unknown
        }
    }

    /// The broadcast of concrete shapes, or nil when they are incompatible.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
        }
        return out
    }

    /// Strides of `shape` viewed as broadcast to `out` (0 along stretched and missing leading dimensions).
    static func strides(of shape: [Int], in out: [Int]) -> [Int] {
        let own = rowMajorStrides(shape)
        let offset = out.count - shape.count
        return (0..<out.count).map { i in
            i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
        }
    }

    /// For each output element (row-major), the flat index of the element of `shape` it reads.
    static func sourceIndices(of shape: [Int], in out: [Int]) -> [Int] {
        let tables = zip(out, strides(of: shape, in: out)).map { n, s in (0..<n).map { $0 * s } }
        return GatherPlan.sources(shape: out, tables: tables)
    }

    /// Visits the output of a two-input broadcast in runs: `body(outStart, aStart, aStep, bStart, bStep, count)`
    /// where each step is 0 or 1. Adjacent dimensions are merged when both inputs allow it, so a per-channel
    /// operand (`[N,C,H,W]` with `[1,C,1,1]`) runs over whole `H·W` planes.
    static func forEachRun(
        out: [Int], a: [Int], b: [Int], _ body: (Int, Int, Int, Int, Int, Int) -> Void
    ) {
        let total = out.reduce(1, *)
        if total == 0 { return }
        var dims = [Int]()
        var sa = [Int]()
        var sb = [Int]()
        let stridesA = strides(of: a, in: out)
        let stridesB = strides(of: b, in: out)
        for i in 0..<out.count where out[i] != 1 {
            // Merge with the previous (outer) dim when both operands are "contiguous or broadcast" consistently.
            if let last = dims.indices.last,
                sa[last] == stridesA[i] * out[i], sb[last] == stridesB[i] * out[i]
            {
                dims[last] *= out[i]
                sa[last] = stridesA[i]
                sb[last] = stridesB[i]
                continue
            }
            dims.append(out[i])
            sa.append(stridesA[i])
            sb.append(stridesB[i])
        }
        if dims.isEmpty {
            body(0, 0, 0, 0, 0, 1)
            return
        }
        let inner = dims.count - 1
        let n = dims[inner]
        let stepA = sa[inner]
        let stepB = sb[inner]
        precondition(stepA <= 1 && stepB <= 1, "inner broadcast stride must be 0 or 1")
        let outer = Array(dims[..<inner])
        var index = [Int](repeating: 0, count: outer.count)
        var offA = 0
        var offB = 0
        var offOut = 0
        while true {
            body(offOut, offA, stepA, offB, stepB, n)
            offOut += n
            var d = outer.count - 1
            while d >= 0 {
                index[d] += 1
                offA += sa[d]
                offB += sb[d]
                if index[d] < outer[d] { break }
                offA -= sa[d] * outer[d]
                offB -= sb[d] * outer[d]
                index[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}
