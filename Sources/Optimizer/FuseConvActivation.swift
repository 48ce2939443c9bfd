import IR

/// Fuses a convolution with the activation that alone reads it: `act(Conv(x, W, b))` → `ai.effnet.FusedConv(x, W, b)`
/// with `activation` = silu | relu | relu6 | hardswish | sigmoid | hardsigmoid, so the runtime applies the
/// activation while the convolution's sums are still in registers.
///
/// Preconditions: explicit padding (no `auto_pad`; `fold-pad` makes it explicit when the input size is known),
/// constant weights. A missing bias becomes an explicit zero bias (the fused op always has one).
public struct FuseConvActivation: GraphPass {
    public let name = "fuse-conv-activation"
    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var rewriter = Rewriter(graph)
        var taken = graph.allValueNames
        var zeroBiases = [String: Tensor]()
        var fused = 0
        for (i, act) in graph.nodes.enumerated() {
            guard let activation = act.activationName(in: graph), let x = act.inputs.first,
                let (c, conv) = rewriter.producerNode(x), conv.opType == "Conv", conv.domain.isEmpty,
                rewriter.soleConsumer(x)?.index == i, !rewriter.isClaimed([c, i]),
                (conv.string("auto_pad") ?? "NOTSET") == "NOTSET",
                let w = graph.constant(conv.inputs[1])
            else { continue }
            var inputs = [conv.inputs[0], conv.inputs[1]]
            if let b = conv.input(2) {
                inputs.append(b)
            } else {
                let name = graph.freshName(conv.inputs[1] + ".zero_bias", avoiding: &taken)
                zeroBiases[name] = Tensor.zeros(w.dtype, shape: [w.shape[0]])
                inputs.append(name)
            }
            var attributes = conv.attributes
            let spatial = w.rank - 2
            attributes["kernel_shape"] = .ints(conv.ints("kernel_shape") ?? Array(w.shape.dropFirst(2)))
            attributes["strides"] = .ints(conv.ints("strides") ?? [Int](repeating: 1, count: spatial))
            attributes["dilations"] = .ints(conv.ints("dilations") ?? [Int](repeating: 1, count: spatial))
            attributes["pads"] = .ints(conv.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial))
            attributes["group"] = .int(conv.int("group") ?? 1)
            attributes["auto_pad"] = nil
            attributes["activation"] = .string(activation)
            let label = conv.name.isEmpty ? act.outputs[0] : conv.name
            var bodyConv = conv
            bodyConv.inputs = inputs
            attributes["body"] = .graph(
                FusedBody.make(
                    name: label, nodes: [bodyConv, act], inputs: [inputs[0]], outputs: act.outputs, in: graph))
            rewriter.replace(
                [c, i],
                with: [
                    Node(
                        name: label, opType: "FusedConv", domain: OpSupport.effnetDomain, inputs: inputs,
                        outputs: act.outputs, attributes: attributes)
                ])
            fused += 1
        }
        graph = rewriter.apply()
        for (k, v) in zeroBiases { graph.initializers[k] = v }
        return fused == 0 ? .unchanged : PassResult(changes: fused, summary: "fused \(fused) Conv + activation")
    }
}
