import IR

/// Recognises activations written as products: `x · Sigmoid(x)` → `ai.effnet.Silu(x)` and
/// `x · HardSigmoid(x; α = 1/6, β = 1/2)` → `HardSwish(x)` (the two definitions agree exactly:
/// HardSwish(x) = x · max(0, min(1, x/6 + 1/2))).
///
/// Precondition: the Sigmoid's output is read only by the Mul, and the Mul's other operand is the Sigmoid's
/// input. The Silu node records the Sigmoid and Mul in its `body` so the graph stays exportable.
public struct RecognizeActivations: GraphPass {
    public let name = "recognize-activations"
    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var rewriter = Rewriter(graph)
        var silu = 0
        var hardSwish = 0
        for (i, mul) in graph.nodes.enumerated()
        where mul.opType == "Mul" && mul.domain.isEmpty && mul.inputs.count == 2 {
            for side in 0..<2 {
                let gateValue = mul.inputs[side]
                let x = mul.inputs[1 - side]
                guard let (g, gate) = rewriter.producerNode(gateValue), gate.domain.isEmpty, gate.inputs.first == x,
                    rewriter.soleConsumer(gateValue)?.index == i, !rewriter.isClaimed([g, i])
                else { continue }
                if gate.opType == "Sigmoid" {
                    let label =
                        mul.name.isEmpty ? mul.outputs[0] : FusedBody.label(for: [gate, mul], fallback: mul.name)
                    let body = FusedBody.make(
                        name: label, nodes: [gate, mul], inputs: [x], outputs: mul.outputs, in: graph)
                    rewriter.replace(
                        [g, i],
                        with: [
                            Node(
                                name: label + "/Silu", opType: "Silu", domain: OpSupport.effnetDomain, inputs: [x],
                                outputs: mul.outputs, attributes: ["body": .graph(body)])
                        ])
                    silu += 1
                    break
                }
                if gate.activationName(in: graph) == "hardsigmoid" {
                    rewriter.replace(
                        [g, i],
                        with: [
                            Node(name: mul.name, opType: "HardSwish", inputs: [x], outputs: mul.outputs)
                        ])
                    hardSwish += 1
                    break
                }
            }
        }
        graph = rewriter.apply()
        let total = silu + hardSwish
        return total == 0
            ? .unchanged
            : PassResult(
                changes: total, summary: "recognised \(silu) SiLU" + (hardSwish > 0 ? ", \(hardSwish) HardSwish" : ""))
    }
}
