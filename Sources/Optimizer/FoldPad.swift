import IR

/// Moves zero padding into the convolution that reads it, and makes `auto_pad` padding explicit.
///
/// `Conv(Pad(x, p, 0))` = `Conv(x)` with pads increased by p's spatial part, when the Pad is constant-mode with
/// value 0, pads nothing on the batch and channel axes, pads non-negatively (negative pads crop), and feeds only
/// this Conv. ONNX Pad orders pads as [x1_begin, x2_begin, …, x1_end, x2_end, …]; Conv as [h_begin, w_begin,
/// h_end, w_end].
///
/// `auto_pad = SAME_UPPER | SAME_LOWER` becomes explicit pads when the input's spatial size is known:
/// out = ⌈in / s⌉, total = max((out − 1)·s + (k − 1)·d + 1 − in, 0); SAME_UPPER puts ⌊total/2⌋ first (TF "SAME"),
/// SAME_LOWER puts ⌈total/2⌉ first. `VALID` becomes zero pads.
public struct FoldPad: GraphPass {
    public let name = "fold-pad"
    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var autoPads = 0
        for i in graph.nodes.indices where graph.nodes[i].opType == "Conv" && graph.nodes[i].domain.isEmpty {
            if let explicit = explicitAutoPad(graph.nodes[i], graph: graph) {
                graph.nodes[i] = explicit
                autoPads += 1
            }
        }
        var rewriter = Rewriter(graph)
        var padsFolded = 0
        for (i, node) in graph.nodes.enumerated() where node.opType == "Conv" && node.domain.isEmpty {
            guard (node.string("auto_pad") ?? "NOTSET") == "NOTSET",
                let (p, pad) = rewriter.producerNode(node.inputs[0]), pad.opType == "Pad", pad.domain.isEmpty,
                rewriter.soleConsumer(node.inputs[0])?.index == i,
                let spatial = zeroPadding(pad, graph: graph, opset: context.opset),
                let kernel = node.ints("kernel_shape")
                    ?? graph.constant(node.inputs[1]).map({ Array($0.shape.dropFirst(2)) }),
                spatial.count == 2 * kernel.count
            else { continue }
            var conv = node
            var pads = conv.ints("pads") ?? [Int](repeating: 0, count: spatial.count)
            for k in pads.indices { pads[k] += spatial[k] }
            conv.attributes["pads"] = .ints(pads)
            conv.inputs[0] = pad.inputs[0]
            rewriter.replace([p, i], with: [conv])
            padsFolded += 1
        }
        graph = rewriter.apply()
        let total = padsFolded + autoPads
        return total == 0
            ? .unchanged
            : PassResult(
                changes: total, summary: "folded \(padsFolded) Pad into Conv, made \(autoPads) auto_pad explicit")
    }

    /// The spatial pads of a constant-zero Pad in Conv order, or nil when it is not foldable.
    private func zeroPadding(_ pad: Node, graph: Graph, opset: Int) -> [Int]? {
        if let mode = pad.string("mode"), mode != "constant" { return nil }
        let pads: [Int]
        if opset < 11 || pad.inputs.count < 2 {
            guard let p = pad.ints("pads") else { return nil }
            if let v = pad.float("value"), v != 0 { return nil }
            pads = p
        } else {
            guard let p = graph.constant(pad.inputs[1]) else { return nil }
            pads = p.ints
            if let value = pad.input(2) {
                guard let v = graph.constant(value), v.doubles.allSatisfy({ $0 == 0 }) else { return nil }
            }
        }
        guard pads.allSatisfy({ $0 >= 0 }) else { return nil }
        var rank = pads.count / 2
        var full = pads
        if let axesName = pad.input(3) {
            // Opset 18: pads apply to the listed axes only.
            guard let axes = graph.constant(axesName)?.ints,
                let r = graph.info(of: pad.inputs[0])?.shape?.count ?? graph.valueInfo[pad.inputs[0]]?.shape?.count
            else { return nil }
            rank = r
            full = [Int](repeating: 0, count: 2 * r)
            for (k, axis) in axes.enumerated() {
                let a = axis < 0 ? axis + r : axis
                full[a] = pads[k]
                full[a + r] = pads[k + axes.count]
            }
        }
        guard rank >= 3, full[0] == 0, full[1] == 0, full[rank] == 0, full[rank + 1] == 0 else { return nil }
        return Array(full[2..<rank]) + Array(full[(rank + 2)...])
    }

    /// The Conv with `auto_pad` replaced by explicit pads, or nil when it has none or the input size is unknown.
    private func explicitAutoPad(_ conv: Node, graph: Graph) -> Node? {
        guard let mode = conv.string("auto_pad"), mode != "NOTSET" else { return nil }
        var out = conv
        out.attributes["auto_pad"] = nil
        guard
            let kernel = conv.ints("kernel_shape")
                ?? graph.constant(conv.inputs[1]).map({ Array($0.shape.dropFirst(2)) })
        else { return nil }
        let dims = kernel.count
        if mode == "VALID" {
            out.attributes["pads"] = .ints([Int](repeating: 0, count: 2 * dims))
            return out
        }
        guard let shape = (graph.valueInfo[conv.inputs[0]] ?? graph.info(of: conv.inputs[0]))?.shape,
            shape.count == dims + 2, let spatial = Array(shape.dropFirst(2)).concrete
        else { return nil }
        let strides = conv.ints("strides") ?? [Int](repeating: 1, count: dims)
        let dilations = conv.ints("dilations") ?? [Int](repeating: 1, count: dims)
        var begin = [Int]()
        var end = [Int]()
        for k in 0..<dims {
            let outSize = (spatial[k] + strides[k] - 1) / strides[k]
            let total = max((outSize - 1) * strides[k] + (kernel[k] - 1) * dilations[k] + 1 - spatial[k], 0)
            let first = mode == "SAME_LOWER" ? (total + 1) / 2 : total / 2
            begin.append(first)
            end.append(total - first)
        }
        out.attributes["pads"] = .ints(begin + end)
        return out
    }
}
