import IR

/// Shape facts about convolution nodes that the block matchers test.
struct ConvFacts {
    let kernel: [Int]
    let strides: [Int]
    let dilations: [Int]
    let group: Int
    let outChannels: Int
    let inChannelsPerGroup: Int

    init?(_ node: Node, graph: Graph) {
        guard node.opType == "Conv" || node.opType == "FusedConv", let w = graph.constant(node.inputs[1]), w.rank == 4
        else {
            return nil
        }
        kernel = node.ints("kernel_shape") ?? Array(w.shape.dropFirst(2))
        strides = node.ints("strides") ?? [1, 1]
        dilations = node.ints("dilations") ?? [1, 1]
        group = node.int("group") ?? 1
        outChannels = w.shape[0]
        inChannelsPerGroup = w.shape[1]
    }

    var isPointwise: Bool { kernel == [1, 1] && strides == [1, 1] && group == 1 }
    var isDepthwise: Bool { inChannelsPerGroup == 1 && group == outChannels && group > 1 }
    var isDense: Bool { group == 1 }
    var inChannels: Int { inChannelsPerGroup * group }
}

extension Rewriter {
    /// The residual `Add(y, x)` / `Add(x, y)` reading `y` as its only use, if any.
    func residualAdd(of y: String, shortcut x: String) -> (index: Int, node: Node)? {
        guard let (a, add) = soleConsumer(y), add.opType == "Add", add.domain.isEmpty, add.inputs.count == 2,
            Set(add.inputs) == Set([x, y]), x != y, !isClaimed([a])
        else { return nil }
        return (a, add)
    }

    /// The project convolution's bias, or a zero bias added to `extra` when it has none.
    func bias(of conv: Node, extra: inout [String: Tensor], taken: inout Set<String>) -> String {
        if let b = conv.input(2) { return b }
        let w = graph.constant(conv.inputs[1])!
        let name = graph.freshName(conv.inputs[1] + ".zero_bias", avoiding: &taken)
        extra[name] = Tensor.zeros(w.dtype, shape: [w.shape[0]])
        return name
    }
}

/// The tail every block ends in: a pointwise project Conv without activation, read through an optional
/// `SqueezeExcite` that only it reads. `body` is the FusedConv (depthwise for MBConv, dense k×k for Fused-MBConv)
/// whose output feeds that chain, when its output is read by nothing else.
struct ProjectChain {
    /// The SE node (if any) and then the body conv, with their node indices.
    var parts: [(index: Int, node: Node)]
    var se: Node?
    var body: (index: Int, node: Node)

    init?(project j: Int, _ project: Node, in rewriter: Rewriter) {
        guard project.opType == "Conv", project.domain.isEmpty,
            let facts = ConvFacts(project, graph: rewriter.graph), facts.isPointwise,
            (project.string("auto_pad") ?? "NOTSET") == "NOTSET"
        else { return nil }
        parts = []
        var cursor = project.inputs[0]
        if let (s, node) = rewriter.producerNode(cursor), node.opType == "SqueezeExcite",
            rewriter.soleConsumer(cursor)?.index == j
        {
            se = node
            parts.append((s, node))
            cursor = node.inputs[0]
        }
        let reader = parts.last?.index ?? j
        guard let (b, node) = rewriter.producerNode(cursor), node.opType == "FusedConv",
            rewriter.soleConsumer(cursor)?.index == reader
        else { return nil }
        body = (b, node)
        parts.append(body)
    }
}
