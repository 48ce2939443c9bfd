import KernelCore
import IR

/// Reshapes (copies in C order), transposes, and constant-mode spatial Pad (NHWC).
extension PlanBuilder {

    /// Flatten / Reshape / Squeeze / Unsqueeze: a copy in C order under the shape the IR's inference gives (its
    /// `ReshapeOp` & co. are the one reading of `allowzero`, `-1`, axes inputs and opset differences).
    func planReshape(_ node: Node) throws {
        let xShape = try shape(of: node.inputs[0], node: node)
        let count = xShape.reduce(1, *)
        let out = try inferredShape(node)
        guard out.reduce(1, *) == count else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason: "cannot reshape \(xShape) to \(out)")
        }
        let input = try value(node.inputs[0], .nchw, node: node)
        let output = newValue(node.outputs[0], shape: out, layout: .nchw)
        define(node.outputs[0], output)
        addStep(node.label, reads: [input], writes: [output]) { b in
            let x = b.pointer(input)
            let y = b.pointer(output)
            return { _ in y.update(from: x, count: count) }
        }
    }

    /// Constant-mode Pad of the two spatial axes of a 4-D value (timm `tf_` SAME padding before a convolution),
    /// in NHWC: a copy into a zero-bordered buffer.
    func planPad(_ node: Node) throws {
        let xShape = try shape(of: node.inputs[0], node: node)
        // The IR's reading of the node (opset forms, axes input, fill), with its inputs known at plan time.
        let p = try PadOp.padding(node, opset: opset, shape: xShape, dtype: .float32) { i in
            try node.input(i).map { try constant($0, node: node, reason: "Pad input \(i)") }
        }
        let (n, c, h, w) = xShape.count == 4 ? (xShape[0], xShape[1], xShape[2], xShape[3]) : (0, 0, 0, 0)
        let ((top, bottom), (left, right)) = (p.pads(ofAxis: 2), p.pads(ofAxis: 3))
        guard p.mode == "constant", xShape.count == 4, p.pads(ofAxis: 0) == (0, 0), p.pads(ofAxis: 1) == (0, 0),
            min(top, bottom, left, right) >= 0
        else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType, reason:
                    "Pad mode '\(p.mode)' with pads \(p.pads) on axes \(p.axes) is not supported by the native runtime; only non-negative constant padding of H and W of a rank-4 input"
            )
        }
        let fill = Float(p.fill.doubles.first ?? 0)
        let oh = h + top + bottom
        let ow = w + left + right
        let input = try value(node.inputs[0], .nhwc, node: node)
        let output = newValue(node.outputs[0], shape: [n, c, oh, ow], layout: .nhwc)
        define(node.outputs[0], output)
        addStep(node.label, reads: [input], writes: [output]) { b in
            let x = b.pointer(input)
            let y = b.pointer(output)
            return { pool in
                pool.parallelFor(n * oh) { rows, _ in
                    for r in rows {
                        let img = r / oh
                        let oy = r % oh
                        let dst = y + r * ow * c
                        let iy = oy - top
                        if iy < 0 || iy >= h {
                            dst.update(repeating: fill, count: ow * c)
                            continue
                        }
                        dst.update(repeating: fill, count: left * c)
                        (dst + left * c).update(from: x + ((img * h + iy) * w) * c, count: w * c)
                        (dst + (left + w) * c).update(repeating: fill, count: right * c)
                    }
                }
            }
        }
    }

    /// Transpose. The common case is free of arithmetic: a channels-last image input ([N, H, W, C], as Keras
    /// models take it) permuted by [0, 3, 1, 2] is a logical [N, C, H, W] value whose NHWC storage is the input's
    /// bytes, so the step is one copy and the convolutions read it without a layout conversion. Any other
    /// permutation runs as a strided copy in C order.
    func planTranspose(_ node: Node) throws {
        let xShape = try shape(of: node.inputs[0], node: node)
        let rank = xShape.count
        let perm = try TransposeOp.perm(node, rank: rank)
        let out = perm.map { xShape[$0] }
        let count = xShape.reduce(1, *)
        let input = try value(node.inputs[0], .nchw, node: node)
        if rank == 4 && perm == [0, 3, 1, 2] {
            let output = newValue(node.outputs[0], shape: out, layout: .nhwc)
            define(node.outputs[0], output)
            addStep(node.label, reads: [input], writes: [output]) { b in
                let x = b.pointer(input)
                let y = b.pointer(output)
                return { _ in y.update(from: x, count: count) }
            }
            return
        }
        var inStrides = [Int](repeating: 1, count: rank)
        for k in stride(from: rank - 2, through: 0, by: -1) { inStrides[k] = inStrides[k + 1] * xShape[k + 1] }
        let strides = perm.map { inStrides[$0] }
        let output = newValue(node.outputs[0], shape: out, layout: .nchw)
        define(node.outputs[0], output)
        addStep(node.label, reads: [input], writes: [output]) { b in
            let x = b.pointer(input)
            let y = b.pointer(output)
            return { _ in
                // Output index digits from the flat index (no per-run allocation).
                for i in 0..<count {
                    var rest = i
                    var source = 0
                    for k in stride(from: rank - 1, through: 0, by: -1) {
                        source += (rest % out[k]) * strides[k]
                        rest /= out[k]
                    }
                    y[i] = x[source]
                }
            }
        }
    }
}

// MARK: - Lowerings

extension FlattenOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planReshape(node) }
}
extension ReshapeOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planReshape(node) }
}
extension SqueezeOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planReshape(node) }
}
extension UnsqueezeOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planReshape(node) }
}
extension PadOp: NativeLowering { static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planPad(node) } }
extension TransposeOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws { try b.planTranspose(node) }
}
