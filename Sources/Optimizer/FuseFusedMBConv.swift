import IR

/// Recognises Fused-MBConv blocks and replaces each with one `ai.effnet.FusedMBConv` node:
/// y = project_1×1(SE(act(conv_k×k(x)))) (+ x), or for expansion 1 (no project) y = act(conv_k×k(x)) (+ x).
///
/// With a project: matched backwards from a 1×1 Conv without activation whose input comes (through an optional
/// SqueezeExcite) from a dense k×k FusedConv (k > 1). Without one: any remaining dense k×k FusedConv except the
/// network's stem (the first convolution in the graph), optionally followed by a residual Add with its input.
/// Runs after `fuse-mbconv`, so depthwise blocks are already taken.
public struct FuseFusedMBConv: GraphPass {
    public let name = "fuse-fused-mbconv"
    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var rewriter = Rewriter(graph)
        var taken = graph.allValueNames
        var extra = [String: Tensor]()
        var fused = 0
        let stem = graph.nodes.firstIndex { ($0.opType == "Conv" || $0.opType == "FusedConv") }
        // With a project convolution.
        for (j, project) in graph.nodes.enumerated() {
            guard let chain = ProjectChain(project: j, project, in: rewriter), chain.body.index != stem,
                let cf = ConvFacts(chain.body.node, graph: graph), cf.isDense, cf.kernel.allSatisfy({ $0 > 1 }),
                cf.dilations == [1, 1]
            else { continue }
            var parts = chain.parts
            let (conv, se) = (chain.body.node, chain.se)
            parts.append((j, project))
            if fuse(
                parts: parts, conv: conv, cf: cf, se: se, project: project, rewriter: &rewriter, extra: &extra,
                taken: &taken, graph: graph)
            {
                fused += 1
            }
        }
        // Expansion 1: the k×k convolution is the whole block.
        for (c, conv) in graph.nodes.enumerated() where conv.opType == "FusedConv" && c != stem {
            guard !rewriter.isClaimed([c]), let cf = ConvFacts(conv, graph: graph), cf.isDense,
                cf.kernel.allSatisfy({ $0 > 1 }), cf.dilations == [1, 1]
            else { continue }
            if fuse(
                parts: [(c, conv)], conv: conv, cf: cf, se: nil, project: nil, rewriter: &rewriter, extra: &extra,
                taken: &taken, graph: graph)
            {
                fused += 1
            }
        }
        graph = rewriter.apply()
        for (k, v) in extra { graph.initializers[k] = v }
        return fused == 0 ? .unchanged : PassResult(changes: fused, summary: "fused \(fused) Fused-MBConv blocks")
    }

    private func fuse(
        parts initial: [(index: Int, node: Node)], conv: Node, cf: ConvFacts, se: Node?, project: Node?,
        rewriter: inout Rewriter, extra: inout [String: Tensor], taken: inout Set<String>, graph: Graph
    ) -> Bool {
        var parts = initial
        let x = conv.inputs[0]
        var output = (project ?? conv).outputs[0]
        var residual = false
        if let (a, add) = rewriter.residualAdd(of: output, shortcut: x) {
            parts.append((a, add))
            output = add.outputs[0]
            residual = true
        }
        guard !rewriter.isClaimed(parts.map(\.index)) else { return false }
        let ordered = parts.sorted { $0.index < $1.index }.map(\.node)
        let label = FusedBody.label(for: ordered, fallback: output)
        var projectW = ""
        var projectB = ""
        var bodyNodes = ordered
        if let project {
            projectW = project.inputs[1]
            projectB = rewriter.bias(of: project, extra: &extra, taken: &taken)
            var p = project
            p.inputs = [project.inputs[0], projectW, projectB]
            bodyNodes = ordered.map { $0.outputs == project.outputs ? p : $0 }
        }
        let body = FusedBody.make(name: label, nodes: bodyNodes, inputs: [x], outputs: [output], in: graph)
        var attributes: [String: Attribute] = [
            "kernel_shape": .ints(cf.kernel), "strides": .ints(cf.strides),
            "pads": .ints(conv.ints("pads") ?? [0, 0, 0, 0]),
            "activation": conv.attributes["activation"] ?? .string("none"),
            "residual": .int(residual ? 1 : 0),
            "expand_ratio": .float(project == nil ? 1 : Float(cf.outChannels) / Float(cf.inChannels)),
            "body": .graph(body),
        ]
        if let se {
            attributes["se_activation"] = se.attributes["se_activation"]
            attributes["se_gate"] = se.attributes["se_gate"]
        }
        let inputs = [
            x, conv.inputs[1], conv.inputs[2],
            se?.inputs[1] ?? "", se?.inputs[2] ?? "", se?.inputs[3] ?? "", se?.inputs[4] ?? "",
            projectW, projectB,
        ]
        rewriter.replace(
            parts.map(\.index),
            with: [
                Node(
                    name: label, opType: "FusedMBConv", domain: OpSupport.effnetDomain, inputs: inputs,
                    outputs: [output],
                    attributes: attributes)
            ])
        return true
    }
}
