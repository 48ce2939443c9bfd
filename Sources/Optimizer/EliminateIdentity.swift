import IR

/// Removes `Identity` and inference-mode `Dropout` nodes: y = x, so every reader of y reads x instead.
///
/// TorchScript exports share initializers through chains of Identity nodes (a zero bias reused by many convs);
/// after this pass each reader names the initializer directly. When y is a graph output its name must survive:
/// then the producer of x is renamed to produce y instead (possible when x is a node output that is not itself a
/// graph output); otherwise the node stays. A Dropout whose mask output is read stays too.
/// Precondition: inference (Dropout's `training_mode`, if given, is not a constant true).
public struct EliminateIdentity: GraphPass {
    public let name = "eliminate-identity"
    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var removed = 0
        var changed = true
        while changed {
            changed = false
            let outputs = Set(graph.outputs.map(\.name))
            let producers = graph.producers
            let consumers = graph.consumers
            for (i, node) in graph.nodes.enumerated() where node.domain.isEmpty {
                guard node.opType == "Identity" || node.opType == "Dropout", let x = node.input(0),
                    let y = node.outputs.first
                else { continue }
                if node.opType == "Dropout" {
                    if node.outputs.count > 1, !node.outputs[1].isEmpty,
                        !(consumers[node.outputs[1]] ?? []).isEmpty || outputs.contains(node.outputs[1])
                    {
                        continue
                    }
                    if let mode = node.input(2), let t = graph.constant(mode), t.doubles.first != 0 { continue }
                }
                if outputs.contains(y) {
                    guard let p = producers[x], !outputs.contains(x) else { continue }
                    // Rename x to y at its producer and at every other reader.
                    for k in graph.nodes[p].outputs.indices where graph.nodes[p].outputs[k] == x {
                        graph.nodes[p].outputs[k] = y
                    }
                    graph.nodes.remove(at: i)
                    graph.replaceUses(of: x, with: y)
                    if let info = graph.valueInfo.removeValue(forKey: x) {
                        graph.valueInfo[y] = ValueInfo(name: y, dtype: info.dtype, shape: info.shape)
                    }
                } else {
                    graph.nodes.remove(at: i)
                    graph.replaceUses(of: y, with: x)
                    graph.valueInfo[y] = nil
                }
                removed += 1
                changed = true
                break
            }
        }
        return removed == 0 ? .unchanged : PassResult(changes: removed, summary: "removed \(removed) Identity/Dropout")
    }
}
