import IR

/// Recognises squeeze-and-excitation: y = x · gate(W₂·act(W₁·mean_hw(x) + b₁) + b₂), written in ONNX as
/// GlobalAveragePool or ReduceMean(axes = H, W; keepdims) → 1×1 Conv + act → 1×1 Conv + Sigmoid/HardSigmoid →
/// Mul with x, and replaces it by one `ai.effnet.SqueezeExcite(x, W₁, b₁, W₂, b₂)`.
///
/// Runs after `fuse-conv-activation`, so the two 1×1 convolutions arrive as FusedConv with activation
/// (act ∈ silu, relu, relu6, hardswish; gate ∈ sigmoid, hardsigmoid). Every intermediate value must be read
/// only inside the pattern.
public struct FuseSqueezeExcitation: GraphPass {
    public let name = "fuse-squeeze-excitation"
    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var rewriter = Rewriter(graph)
        var fused = 0
        for (m, mul) in graph.nodes.enumerated()
        where mul.opType == "Mul" && mul.domain.isEmpty && mul.inputs.count == 2 {
            for side in 0..<2 {
                let x = mul.inputs[1 - side]
                let gateValue = mul.inputs[side]
                guard let (e, expand) = rewriter.producerNode(gateValue), expand.opType == "FusedConv",
                    rewriter.soleConsumer(gateValue)?.index == m,
                    let gate = expand.string("activation"), gate == "sigmoid" || gate == "hardsigmoid",
                    ConvFacts(expand, graph: graph)?.isPointwise == true,
                    let (r, reduce) = rewriter.producerNode(expand.inputs[0]), reduce.opType == "FusedConv",
                    rewriter.soleConsumer(expand.inputs[0])?.index == e,
                    let act = reduce.string("activation"), ["silu", "relu", "relu6", "hardswish"].contains(act),
                    ConvFacts(reduce, graph: graph)?.isPointwise == true,
                    let (p, pool) = rewriter.producerNode(reduce.inputs[0]), pool.inputs.first == x,
                    rewriter.soleConsumer(reduce.inputs[0])?.index == r,
                    isSpatialMean(pool, graph: graph, opset: context.opset),
                    !rewriter.isClaimed([p, r, e, m])
                else { continue }
                let parts = [pool, reduce, expand, mul]
                let label = FusedBody.label(for: parts, fallback: mul.outputs[0])
                let body = FusedBody.make(name: label, nodes: parts, inputs: [x], outputs: mul.outputs, in: graph)
                rewriter.replace(
                    [p, r, e, m],
                    with: [
                        Node(
                            name: label + "/SqueezeExcite", opType: "SqueezeExcite", domain: OpSupport.effnetDomain,
                            inputs: [x, reduce.inputs[1], reduce.inputs[2], expand.inputs[1], expand.inputs[2]],
                            outputs: mul.outputs,
                            attributes: ["se_activation": .string(act), "se_gate": .string(gate), "body": .graph(body)])
                    ])
                fused += 1
                break
            }
        }
        graph = rewriter.apply()
        return fused == 0 ? .unchanged : PassResult(changes: fused, summary: "fused \(fused) squeeze-excitation")
    }

    /// GlobalAveragePool, or ReduceMean over exactly the two spatial axes of a 4-D tensor with keepdims.
    private func isSpatialMean(_ node: Node, graph: Graph, opset: Int) -> Bool {
        guard node.domain.isEmpty else { return false }
        if node.opType == "GlobalAveragePool" { return true }
        guard node.opType == "ReduceMean", (node.int("keepdims") ?? 1) == 1 else { return false }
        let axes: [Int]? = node.ints("axes") ?? node.input(1).flatMap { graph.constant($0)?.ints }
        guard let a = axes else { return false }
        return Set(a.map { $0 < 0 ? $0 + 4 : $0 }) == [2, 3]
    }
}
