import IR

/// Replaces every `ai.effnet` node by the standard ONNX nodes recorded in its `body`, recursively, so that the
/// graph can be written as standard ONNX and read by any consumer. The inverse of the fusion passes: fused ops
/// keep the exact nodes (and value names) they replaced, so unfusing a freshly fused graph gives back the
/// pre-fusion graph up to node order.
public struct Unfuse: GraphPass {
    public let name = "unfuse"
    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var count = 0
        var nodes = [Node]()
        for node in graph.nodes {
            let expanded = FusedBody.standardNodes(of: node)
            if expanded.count != 1 || expanded[0] != node {
                count += 1
                for inner in expanded {
                    guard inner.domain.isEmpty || inner.domain == "ai.onnx" else {
                        throw OptimizerError.passFailed(
                            pass: name, message: "node '\(node.label)' has no standard-ONNX body")
                    }
                }
                // Restore the value infos of the intermediate values so the exported file keeps its shapes.
                if let body = node.graph("body") {
                    for (k, v) in body.valueInfo where graph.valueInfo[k] == nil { graph.valueInfo[k] = v }
                }
            }
            nodes.append(contentsOf: expanded)
        }
        graph.nodes = nodes
        return count == 0 ? .unchanged : PassResult(changes: count, summary: "expanded \(count) fused nodes")
    }
}
