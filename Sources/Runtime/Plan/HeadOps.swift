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
                node: node.label, opType: node.opType,
                reason:
                    "\(node.opType) of a rank-\(xShape.count) input is not supported by the native runtime; only the spatial mean of a rank-4 input"
            )
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
                    reason:
                        "ReduceMean over axes \(axes ?? [0, 1, 2, 3]) is not supported by the native runtime; only over axes [2, 3] of a rank-4 input"
                )
            }
            keep = (node.int("keepdims") ?? 1) != 0
        }
        let input = try value(node.inputs[0], .nhwc, node: node)
        let (n, c, hw) = (xShape[0], xShape[1], xShape[2] * xShape[3])
        let output = newValue(node.outputs[0], shape: keep ? [n, c, 1, 1] : [n, c], layout: .nchw)
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
                node: node.label, opType: node.opType,
                reason:
                    "\(node.opType) with a rank-\(bShape.count) B is not supported by the native runtime; only a 2-D constant B"
            )
        }
        let isGemm = node.opType == "Gemm"
        let attributes = GemmOp.Attributes(node)
        if attributes.transA {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "Gemm with transA = 1 is not supported; only transA = 0")
        }
        let transB = attributes.transB
        let (k, n) = transB ? (bShape[1], bShape[0]) : (bShape[0], bShape[1])
        guard k > 0, n > 0, !aShape.isEmpty else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "\(node.opType) of \(aShape) by \(bShape) is not supported; only a non-empty A by a 2-D B")
        }
        guard aShape.last == k || (isGemm && aShape.count == 2 && aShape[1] == k) else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason:
                    "\(node.opType) of \(aShape) by \(bShape) is not supported by the native runtime; only A [.., K] by B [K, N]"
            )
        }
        let m = aShape.reduce(1, *) / k
        let (alpha, beta) = (attributes.alpha, attributes.beta)
        let cName = isGemm ? node.input(2) : nil
        if let cName {
            let count = try constantShape(cName, node: node, reason: "Gemm C").reduce(1, *)
            guard count == n || count == 1 else {
                throw RuntimeError.unsupportedNode(
                    node: node.label, opType: node.opType, reason: "Gemm with a C of \(count) values is not supported; only a scalar or per-column C")
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
        let input = try value(node.inputs[0], .nchw, node: node)
        let output = newValue(node.outputs[0], shape: Array(aShape.dropLast()) + [n], layout: .nchw)
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

    /// Softmax over contiguous elements: the last axis from opset 13, everything from `axis` on before 13
    /// (the input coerced to 2-D), as the IR's `SoftmaxLayout` reads the node.
    func planSoftmax(_ node: Node) throws {
        let xShape = try shape(of: node.inputs[0], node: node)
        let layout = try SoftmaxLayout(node: node, opset: opset, shape: xShape)
        guard layout.inner == 1 else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType,
                reason:
                    "Softmax over axis \(layout.axis) of \(xShape) is not supported by the native runtime; only over the last axis (or axes of size 1 after it)"
            )
        }
        let inner = layout.n
        let rows = layout.outer
        let input = try value(node.inputs[0], .nchw, node: node)
        let output = newValue(node.outputs[0], shape: xShape, layout: .nchw)
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

// MARK: - Lowerings

extension GlobalAveragePoolOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planSpatialMean(node) }
}
extension ReduceMeanOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planSpatialMean(node) }
}
extension GemmOp: NativeLowering { static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planGemm(node) } }
extension MatMulOp: NativeLowering { static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planGemm(node) } }
extension SoftmaxOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planSoftmax(node) }
}
