import IR

/// Records each fused block's stage (as `NetworkSummary` groups them) in its `stage` attribute, so that tools
/// reading the optimized graph see the paper's stage numbering without recomputing it.
public struct AnnotateStages: GraphPass {
    public let name = "annotate-stages"
    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var stripped = graph
        for i in stripped.nodes.indices { stripped.nodes[i].attributes["stage"] = nil }
        let byName = Dictionary(
            NetworkSummary(graph: stripped).blocks.map { ($0.name, $0.stage) }, uniquingKeysWith: { a, _ in a })
        var count = 0
        for i in graph.nodes.indices where graph.nodes[i].opType == "MBConv" || graph.nodes[i].opType == "FusedMBConv" {
            if let s = byName[graph.nodes[i].name], graph.nodes[i].int("stage") != s {
                graph.nodes[i].attributes["stage"] = .int(s)
                count += 1
            }
        }
        return count == 0 ? .unchanged : PassResult(changes: count, summary: "numbered \(count) blocks into stages")
    }
}
