import KernelCore
import IR

/// Resize of H and W of a rank-4 value (N and C kept), nearest or bilinear, on C-order planes. Where each output
/// row and column reads comes from the IR's `ResizeOp.taps` (the one reading of the coordinate modes); the step
/// interpolates in float32, parallel over output rows of all planes.
extension ResizeOp: NativeLowering {
    static func lower(_ node: Node, _ b: PlanBuilder) throws {
        let xShape = try b.shape(of: node.inputs[0], node: node)
        let attributes = try Attributes(node: node, opset: b.opset)
        let scales = try node.input(2).map { try b.constant($0, node: node, reason: "Resize scales") }
        let sizes = try node.input(3).map { try b.constant($0, node: node, reason: "Resize sizes") }
        let (out, factors) = try geometry(node: node, input: xShape, scales: scales, sizes: sizes)
        guard xShape.count == 4, out[0] == xShape[0], out[1] == xShape[1], factors[0] == 1, factors[1] == 1 else {
            throw RuntimeError.unsupportedNode(
                node: node.label, opType: node.opType,
                reason:
                    "Resize of \(xShape) to \(out) is not supported by the native runtime; only resizing H and W of a rank-4 input"
            )
        }
        let rows = taps(inSize: xShape[2], outSize: out[2], scale: factors[2], attributes: attributes)
        let cols = taps(inSize: xShape[3], outSize: out[3], scale: factors[3], attributes: attributes)
        let (y0, y1, wy) = (rows.map(\.i0), rows.map(\.i1), rows.map { Float($0.w) })
        let (x0, x1, wx) = (cols.map(\.i0), cols.map(\.i1), cols.map { Float($0.w) })
        let linear = attributes.linear
        let (planes, h, w, oh, ow) = (xShape[0] * xShape[1], xShape[2], xShape[3], out[2], out[3])
        let input = try b.value(node.inputs[0], .nchw, node: node)
        let output = b.newValue(node.outputs[0], shape: out, layout: .nchw)
        b.define(node.outputs[0], output)
        b.addStep(node.label, reads: [input], writes: [output]) { bind in
            let x = bind.pointer(input)
            let y = bind.pointer(output)
            return { pool in
                guard h > 0 && w > 0 else { return }
                pool.parallelFor(planes * oh) { range, _ in
                    for r in range {
                        let plane = x + (r / oh) * h * w
                        let oy = r % oh
                        let top = plane + y0[oy] * w
                        let dst = y + r * ow
                        if !linear {
                            for ox in 0..<ow { dst[ox] = top[x0[ox]] }
                            continue
                        }
                        let bottom = plane + y1[oy] * w
                        let fy = wy[oy]
                        for ox in 0..<ow {
                            let fx = wx[ox]
                            let t = top[x0[ox]] * (1 - fx) + top[x1[ox]] * fx
                            let u = bottom[x0[ox]] * (1 - fx) + bottom[x1[ox]] * fx
                            dst[ox] = t * (1 - fy) + u * fy
                        }
                    }
                }
            }
        }
    }
}
