import IR

/// Evaluates every node whose inputs are all known at optimization time and replaces its outputs by initializers.
///
/// Known values are initializers, `Constant` nodes, and shape facts: `Shape(x)` when x's shape is fully known
/// (after shape inference), and `Gather(Shape(x), i)` / `Slice(Shape(x), …)` when the selected dimensions are known
/// even if others (a dynamic batch `N`) are not. This is what collapses the dynamic SAME-padding subgraphs of timm
/// `tf_` exports (Shape → Gather → Cast → Div → Ceil → … → Pad) into constant pads when the input size is known;
/// when it is not, those nodes stay and the graph stays correct.
///
/// Only the light operators of `ConstantEvaluator` are evaluated, and never into a tensor of more than
/// `maxElements` elements (folding must not blow a small graph up into a large file).
public struct FoldConstants: GraphPass {
    public let name = "fold-constants"
    public var maxElements = 1 << 20
    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        var folded = 0
        for _ in 0..<8 {
            let typed = try ShapeInference.infer(graph, opset: context.opset)
            graph.valueInfo = typed.valueInfo
            let n = try foldOnce(&graph, opset: context.opset)
            folded += n
            if n == 0 { break }
        }
        return folded == 0 ? .unchanged : PassResult(changes: folded, summary: "folded \(folded) nodes into constants")
    }

    private func foldOnce(_ graph: inout Graph, opset: Int) throws -> Int {
        let outputs = Set(graph.outputs.map(\.name))
        var constants = graph.initializers
        var keep = [Node]()
        var folded = 0
        for node in graph.nodes {
            if node.outputs.contains(where: outputs.contains) || !node.domain.isEmpty {
                keep.append(node)
                continue
            }
            if let values = try evaluate(node, constants: constants, graph: graph, opset: opset),
                values.count == node.outputs.count, values.allSatisfy({ $0.count <= maxElements })
            {
                for (name, value) in zip(node.outputs, values) where !name.isEmpty {
                    constants[name] = value
                    graph.initializers[name] = value
                    graph.valueInfo[name] = nil
                }
                folded += 1
            } else {
                keep.append(node)
            }
        }
        graph.nodes = keep
        return folded
    }

    private func evaluate(_ node: Node, constants: [String: Tensor], graph: Graph, opset: Int) throws -> [Tensor]? {
        switch node.opType {
        case "Constant":
            return node.tensor("value").map { [$0] }
        case "Shape":
            guard let dims = graph.valueInfo[node.inputs[0]]?.shape ?? graph.info(of: node.inputs[0])?.shape else {
                return nil
            }
            let (lo, hi) = Self.shapeRange(node, rank: dims.count)
            guard let known = Array(dims[lo..<hi]).concrete else { return nil }
            return [Tensor(shape: [known.count], int64s: known.map { Int64($0) })]
        case "Gather", "Slice":
            // Selecting known dimensions out of a partially known shape.
            if constants[node.inputs[0]] == nil, let dims = partialShape(node.inputs[0], graph: graph) {
                guard node.inputs.dropFirst().allSatisfy({ $0.isEmpty || constants[$0] != nil }) else { return nil }
                let indices = Tensor(shape: [dims.count], int64s: (0..<Int64(dims.count)).map { $0 })
                var inputs = [indices]
                inputs += node.inputs.dropFirst().map { $0.isEmpty ? Tensor.zeros(.int64, shape: [0]) : constants[$0]! }
                let picked = try ConstantEvaluator.evaluate(node: node, inputs: inputs, opset: opset)
                var values = [Int64]()
                for index in picked[0].int64s {
                    guard let v = dims[Int(index)].value else { return nil }
                    values.append(Int64(v))
                }
                return [Tensor(shape: picked[0].shape, int64s: values)]
            }
        default:
            break
        }
        guard ConstantEvaluator.canEvaluate(opType: node.opType) else { return nil }
        var inputs = [Tensor]()
        for input in node.inputs {
            if input.isEmpty {
                inputs.append(Tensor.zeros(.float32, shape: [0]))
                continue
            }
            guard let t = constants[input] else { return nil }
            inputs.append(t)
        }
        return try ConstantEvaluator.evaluate(node: node, inputs: inputs, opset: opset)
    }

    /// The dims a `Shape` node's output holds when only some of them are known: `[Dim]` for the value produced by
    /// a Shape node over an input of known rank.
    private func partialShape(_ value: String, graph: Graph) -> [Dim]? {
        guard let p = graph.producers[value], graph.nodes[p].opType == "Shape",
            let dims = graph.valueInfo[graph.nodes[p].inputs[0]]?.shape ?? graph.info(of: graph.nodes[p].inputs[0])?.shape
        else { return nil }
        let (lo, hi) = Self.shapeRange(graph.nodes[p], rank: dims.count)
        return Array(dims[lo..<hi])
    }

    /// `Shape`'s start/end attributes (opset 15), clamped as the spec says.
    static func shapeRange(_ node: Node, rank: Int) -> (Int, Int) {
        func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
        let lo = clamp(node.int("start") ?? 0)
        let hi = clamp(node.int("end") ?? rank)
        return (lo, max(lo, hi))
    }
}
