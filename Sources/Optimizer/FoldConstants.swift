import IR

/// Replaces every node whose outputs are all known at optimization time by initializers holding those values.
///
/// What is known comes from `ShapeInference.analyze`: initializers, `Constant` nodes, and everything computed
/// from them and from shape facts — `Shape(x)` of a statically shaped x, and `Gather(Shape(x), i)` of a known
/// dimension even when others (a dynamic batch `N`) are not. This collapses the dynamic SAME-padding subgraphs of
/// timm `tf_` exports (Shape → Gather → Cast → Div → Ceil → … → Pad) into constant pads when the input size is
/// known; when it is not, those nodes stay and the graph stays correct.
///
/// The analysis evaluates nothing bigger than `ShapeInference.evaluationLimit` inputs, and this pass never
/// writes a folded tensor of more than `maxElements` elements (folding must not blow a small graph up into a large
/// file). Nodes producing graph outputs are left alone, so outputs stay node outputs.
public struct FoldConstants: GraphPass {
    public let name = "fold-constants"
    public var maxElements = 1 << 20
    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        let analysis = try ShapeInference.analyze(graph, opset: context.opset)
        graph.valueInfo = analysis.graph.valueInfo
        let outputs = Set(graph.outputs.map(\.name))
        var kept = [Node]()
        var folded = 0
        for node in graph.nodes {
            let values = node.outputs.map { $0.isEmpty ? nil : analysis.constants[$0] }
            let foldable =
                !node.outputs.isEmpty && node.domain.isEmpty
                && !node.outputs.contains(where: outputs.contains)
                && zip(node.outputs, values).allSatisfy { name, value in
                    name.isEmpty || (value.map { $0.count <= maxElements } ?? false)
                }
            guard foldable else {
                kept.append(node)
                continue
            }
            for (name, value) in zip(node.outputs, values) where !name.isEmpty {
                graph.initializers[name] = value
                graph.valueInfo[name] = nil
            }
            folded += 1
        }
        graph.nodes = kept
        return folded == 0 ? .unchanged : PassResult(changes: folded, summary: "folded \(folded) nodes into constants")
    }
}
