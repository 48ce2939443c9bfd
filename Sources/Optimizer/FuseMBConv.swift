import IR

/// Recognises whole MBConv blocks and replaces each with one `ai.effnet.MBConv` node:
/// y = project(SE(act(depthwise_k×k(act(expand_1×1(x)))))) (+ x when the block has a residual).
///
/// Matched backwards from the 1×1 project Conv (no activation): its input comes from an optional
/// `SqueezeExcite`, whose input is a depthwise FusedConv (group = channels), whose input is an optional 1×1 expand
/// FusedConv with the same activation (absent for expansion 1). The residual is an `Add` of the project output
/// and the block input, read nowhere else. Runs after BN folding, activation and SE fusion; every intermediate
/// value must be read only inside the block.
public struct FuseMBConv: GraphPass {
    public let name = "fuse-mbconv"
    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var rewriter = Rewriter(graph)
        var taken = graph.allValueNames
        var extra = [String: Tensor]()
        var fused = 0
        for (j, project) in graph.nodes.enumerated() {
            guard let chain = ProjectChain(project: j, project, in: rewriter),
                let df = ConvFacts(chain.body.node, graph: graph),
                df.isDepthwise, df.dilations == [1, 1], let activation = chain.body.node.string("activation")
            else { continue }
            var parts = chain.parts
            let (d, dw) = chain.body
            let se = chain.se
            var x = dw.inputs[0]
            var expand: Node? = nil
            if let (e, node) = rewriter.producerNode(x), node.opType == "FusedConv",
                rewriter.soleConsumer(x)?.index == d,
                let ef = ConvFacts(node, graph: graph), ef.isPointwise, node.string("activation") == activation
            {
                expand = node
                parts.append((e, node))
                x = node.inputs[0]
            }
            parts.append((j, project))
            var output = project.outputs[0]
            var residual = false
            if let (a, add) = rewriter.residualAdd(of: output, shortcut: x) {
                parts.append((a, add))
                output = add.outputs[0]
                residual = true
            }
            guard !rewriter.isClaimed(parts.map(\.index)) else { continue }
            let inChannels = expand.flatMap { ConvFacts($0, graph: graph)?.inChannels } ?? df.outChannels
            let ordered = parts.sorted { $0.index < $1.index }.map(\.node)
            let label = FusedBody.label(for: ordered, fallback: output)
            let projectBias = rewriter.bias(of: project, extra: &extra, taken: &taken)
            var bodyProject = project
            bodyProject.inputs = [project.inputs[0], project.inputs[1], projectBias]
            let bodyNodes = ordered.map { $0.outputs == project.outputs ? bodyProject : $0 }
            let body = FusedBody.make(name: label, nodes: bodyNodes, inputs: [x], outputs: [output], in: graph)
            var attributes: [String: Attribute] = [
                "kernel_shape": .ints(df.kernel), "strides": .ints(df.strides),
                "pads": .ints(dw.ints("pads") ?? [0, 0, 0, 0]), "activation": .string(activation),
                "residual": .int(residual ? 1 : 0),
                "expand_ratio": .float(Float(df.outChannels) / Float(inChannels)),
                "body": .graph(body),
            ]
            if let se {
                attributes["se_activation"] = se.attributes["se_activation"]
                attributes["se_gate"] = se.attributes["se_gate"]
            }
            let inputs = [
                x, expand?.inputs[1] ?? "", expand?.inputs[2] ?? "", dw.inputs[1], dw.inputs[2],
                se?.inputs[1] ?? "", se?.inputs[2] ?? "", se?.inputs[3] ?? "", se?.inputs[4] ?? "",
                project.inputs[1], projectBias,
            ]
            rewriter.replace(
                parts.map(\.index),
                with: [
                    Node(
                        name: label, opType: "MBConv", domain: OpSupport.effnetDomain, inputs: inputs,
                        outputs: [output],
                        attributes: attributes)
                ])
            fused += 1
        }
        graph = rewriter.apply()
        for (k, v) in extra { graph.initializers[k] = v }
        return fused == 0 ? .unchanged : PassResult(changes: fused, summary: "fused \(fused) MBConv blocks")
    }
}
