import KernelCore
import Foundation
import IR

extension ReferenceKernels {
    /// Inference BatchNormalization per channel: y = x·k + (β − μ·k) with k = γ / √(σ² + ε), in Double.
    static func batchNormalization(
        _ x: Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, node: Node
    ) throws -> [Tensor] {
        try requireFloat(x, node)
        guard x.rank >= 2 else { throw IRError.invalidNode(node: node.label, message: "input must have rank ≥ 2") }
        let c = x.shape[1]
        for (name, p) in [("scale", scale), ("B", bias), ("mean", mean), ("var", variance)] where p.count != c {
            throw IRError.invalidNode(node: node.label, message: "\(name) has \(p.count) elements for \(c) channels")
        }
        if node.outputs.count > 1 {
            throw IRError.invalidNode(node: node.label, message: "running-statistics outputs need training mode")
        }
        let epsilon = Double(node.float("epsilon") ?? 1e-5)
        let g = scale.referenceDoubles
        let b = bias.referenceDoubles
        let mu = mean.referenceDoubles
        let v = variance.referenceDoubles
        let plane = x.shape[2...].reduce(1, *)
        var y = x.referenceDoubles
        for i in 0..<(y.count / max(1, plane)) {
            let ch = i % c
            let k = g[ch] / (v[ch] + epsilon).squareRoot()
            let shift = b[ch] - mu[ch] * k
            for p in (i * plane)..<((i + 1) * plane) { y[p] = y[p] * k + shift }
        }
        return [Tensor.reference(x.dtype, shape: x.shape, y)]
    }

    /// The mean of each (n, c) plane, as a Double sum divided by the plane size.
    static func globalAveragePool(_ x: Tensor, node: Node) throws -> Tensor {
        try requireFloat(x, node)
        guard x.rank >= 3 else { throw IRError.invalidNode(node: node.label, message: "input must have rank ≥ 3") }
        let plane = x.shape[2...].reduce(1, *)
        let xs = x.referenceDoubles
        let planes = x.shape[0] * x.shape[1]
        var y = [Double](repeating: 0, count: planes)
        for i in 0..<planes {
            var s = 0.0
            for p in (i * plane)..<((i + 1) * plane) { s += xs[p] }
            y[i] = s / Double(plane)
        }
        return Tensor.reference(x.dtype, shape: Array(x.shape[0..<2]) + [Int](repeating: 1, count: x.rank - 2), y)
    }

    /// The mean over the resolved axes, accumulated in Double.
    static func reduceMean(_ x: Tensor, axes: Tensor?, node: Node, opset: Int) throws -> Tensor {
        try requireFloat(x, node)
        let r = try ReduceParameters(node: node, opset: opset, rank: x.rank, axes: axes)
        if r.isIdentity { return x }
        let reduced = Set(r.axes)
        let strides = rowMajor(x.shape)
        var outFull = x.shape
        for a in reduced { outFull[a] = 1 }
        let outStrides = rowMajor(outFull)
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

    /// e^(x − max) / Σ e^(x − max) over each softmax group, in Double.
    static func softmax(_ x: Tensor, node: Node, opset: Int) throws -> Tensor {
        try requireFloat(x, node)
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

    static func rowMajor(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[d] = s
            s *= shape[d]
        }
        return strides
    }
}
