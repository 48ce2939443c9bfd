import KernelCore
import Foundation
import IR

/// The network head: spatial mean (GlobalAveragePool / ReduceMean), the classifier (Gemm / MatMul through the
/// GEMM, one-row kernel at batch 1) and Softmax, all after the activation has left channels-last.
extension PlanBuilder {

    /// GlobalAveragePool, and ReduceMean over the two spatial axes: [N, C, H, W] → [N, C, 1, 1] (or [N, C]).
    func planSpatialMean(_ node: Node) throws {
        let xShape = try shape(of: node.inputs[0], node: node)
        guard xShape.count == 4 else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "input rank \(xShape.count)")
        }
        var keep = true
        if node.opType == "ReduceMean" {
            var axes = node.ints("axes")
            if axes == nil, let name = node.input(1) {
                axes = try constant(name, node: node, reason: "ReduceMean axes").ints
            }
            let normalized = Set((axes ?? [0, 1, 2, 3]).map { $0 < 0 ? $0 + 4 : $0 })
            guard normalized == [2, 3] else {
                throw RuntimeError.unsupportedNode(
                    node: node.label, opType: node.opType,
                    reason: "ReduceMean over axes \(axes ?? []) (only spatial means run)")
            }
            keep = (node.int("keepdims") ?? 1) != 0
        }
        let input = try value(node.inputs[0], .nhwc, node: node)
        let (n, c, hw) = (xShape[0], xShape[1], xShape[2] * xShape[3])
        let output = newValue(node.outputs[0], shape: keep ? [n, c, 1, 1] : [n, c], layout: .plain)
        define(node.outputs[0], output)
        addStep(node.label, reads: [input], writes: [output]) { b in
            let x = b.pointer(input)
            let y = b.pointer(output)
            return { pool in
                pool.parallelFor(n) { images, _ in
                    GlobalPool.average(x, batch: n, pixels: hw, channels: c, into: y, images: images)
                }
            }
        }
    }

    /// Gemm (constant B and C) and MatMul (constant B): the classifier, through the GEMM (1-row kernel at batch 1).
    func planGemm(_ node: Node) throws {
        let aShape = try shape(of: node.inputs[0], node: node)
        let weight = node.inputs[1]
        let bShape = try constantShape(weight, node: node, reason: "\(node.opType) weights")
        guard bShape.count == 2 else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "weights of rank \(bShape.count)")
        }
        let isGemm = node.opType == "Gemm"
        if isGemm && (node.int("transA") ?? 0) != 0 {
            throw RuntimeError.unsupportedNode(node: node.label, opType: node.opType, reason: "transA = 1")
        }
        let transB = isGemm && (node.int("transB") ?? 0) != 0
        let (k, n) = transB ? (bShape[1], bShape[0]) : (bShape[0], bShape[1])
        guard k > 0, n > 0, !aShape.isEmpty else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "input \(aShape) with weights \(bShape)")
        }
        guard aShape.last == k || (isGemm && aShape.count == 2 && aShape[1] == k) else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "input \(aShape) does not match weights \(bShape)")
        }
        let m = aShape.reduce(1, *) / k
        let alpha = isGemm ? node.float("alpha") ?? 1 : 1
        let beta = isGemm ? node.float("beta") ?? 1 : 1
        let cName = isGemm ? node.input(2) : nil
        if let cName {
            let count = try constantShape(cName, node: node, reason: "Gemm C").reduce(1, *)
            guard count == n || count == 1 else {
                throw RuntimeError.unsupportedNode(
                    node: node.label, opType: node.opType, reason: "C of \(count) values (only per-column bias runs)")
            }
        }
        let packed = try prepared("matrix", [weight, cName], parameters: [alpha, beta, transB ? 1 : 0]) {
            var bias = [Float](repeating: 0, count: n)
            if let cName {
                let c = try packingInput(cName, node: node, reason: "Gemm C").floats
                bias = (0..<n).map { beta * c[c.count == 1 ? 0 : $0] }
            }
            let b = try packingInput(weight, node: node, reason: "\(node.opType) weights").floats
            return PackedWeights(
                matrix: alpha == 1 ? b : b.map { $0 * alpha }, k: k, n: n, transposed: transB, bias: bias)
        }
        let input = try value(node.inputs[0], .plain, node: node)
        let output = newValue(node.outputs[0], shape: Array(aShape.dropLast()) + [n], layout: .plain)
        define(node.outputs[0], output)
        addStep(node.label, reads: [input], writes: [output]) { b in
            let x = b.pointer(input)
            let y = b.pointer(output)
            return { pool in
                GEMM.run(
                    GEMM.Problem(rows: .direct(base: x, stride: k), m: m, weights: packed, c: y, ldc: n), pool: pool)
            }
        }
    }

    /// Softmax over the last axis (opset ≥ 13 default; older opsets' flattening agrees for [N, classes]).
    func planSoftmax(_ node: Node) throws {
        let xShape = try shape(of: node.inputs[0], node: node)
        let rank = xShape.count
        var axis = node.int("axis") ?? -1
        if axis < 0 { axis += rank }
        guard axis >= 0 && axis < rank else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "axis \(node.int("axis") ?? -1) of a rank-\(rank) input")
        }
        guard xShape[(axis + 1)...].allSatisfy({ $0 == 1 }) || axis == rank - 1 else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "softmax over axis \(axis) of \(xShape)")
        }
        let inner = xShape[axis...].reduce(1, *)
        let rows = xShape.reduce(1, *) / max(inner, 1)
        let input = try value(node.inputs[0], .plain, node: node)
        let output = newValue(node.outputs[0], shape: xShape, layout: .plain)
        define(node.outputs[0], output)
        addStep(node.label, reads: [input], writes: [output]) { b in
            let x = b.pointer(input)
            let y = b.pointer(output)
            return { _ in
                for r in 0..<rows {
                    let src = x + r * inner
                    let dst = y + r * inner
                    var mx = -Float.infinity
                    for i in 0..<inner { mx = max(mx, src[i]) }
                    var sum: Double = 0
                    for i in 0..<inner {
                        dst[i] = Float(Foundation.exp(Double(src[i] - mx)))
                        sum += Double(dst[i])
                    }
                    let inv = Float(1 / sum)
                    for i in 0..<inner { dst[i] *= inv }
                }
            }
        }
    }
}
