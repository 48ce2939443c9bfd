import IR

/// Removes nodes none of whose outputs reach a graph output, then initializers and value infos no node reads.
///
/// Liveness is computed backwards from the graph outputs; fused bodies count as readers of the outer values they
/// name. Graph inputs are never removed (they are the model's interface).
public struct EliminateDeadCode: GraphPass {
    public let name = "eliminate-dead-code"
    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var live = Set(graph.outputs.map(\.name))
        var keep = [Bool](repeating: false, count: graph.nodes.count)
        for i in graph.nodes.indices.reversed() {
            let node = graph.nodes[i]
            guard node.outputs.contains(where: { live.contains($0) }) else { continue }
            keep[i] = true
            live.formUnion(node.inputs.filter { !$0.isEmpty })
            for a in node.attributes.values {
                if case .graph(let body) = a { live.formUnion(Self.outerReads(of: body)) }
            }
        }
        let removedNodes = keep.filter { !$0 }.count
        graph.nodes = graph.nodes.indices.filter { keep[$0] }.map { graph.nodes[$0] }
        let deadInitializers = graph.initializers.keys.filter { !live.contains($0) }
        for k in deadInitializers { graph.initializers[k] = nil }
        let produced = Set(graph.nodes.flatMap(\.outputs))
        for k in graph.valueInfo.keys where !produced.contains(k) { graph.valueInfo[k] = nil }
        let total = removedNodes + deadInitializers.count
        return total == 0
            ? .unchanged
            : PassResult(
                changes: total, summary: "removed \(removedNodes) nodes, \(deadInitializers.count) initializers")
    }

    /// Names a sub-graph reads from its enclosing scope (inputs of its nodes that it does not produce itself).
    static func outerReads(of body: Graph) -> Set<String> {
        var produced = Set(body.inputs.map(\.name)).union(body.initializers.keys)
        var reads = Set<String>()
        for node in body.nodes {
            for input in node.inputs where !input.isEmpty && !produced.contains(input) { reads.insert(input) }
            for a in node.attributes.values { if case .graph(let b) = a { reads.formUnion(outerReads(of: b)) } }
            produced.formUnion(node.outputs)
        }
        // The body's own inputs are bound from the fused node's inputs, which are outer values too.
        return reads.union(body.inputs.map(\.name))
    }
}
