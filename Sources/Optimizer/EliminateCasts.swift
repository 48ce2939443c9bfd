import IR

/// Removes Casts that cannot change a value: y = Cast(x, to: T) where x already has type T, and round trips
/// y = Cast(Cast(x, to: W), to: T) where x has type T and W holds every value of T exactly (float32 → float64,
/// float16 → float32/float64, bfloat16 → float32/float64, int8/int16/int32 → wider integers and floats wide
/// enough, uint8 → int16 and wider). Both are y = x bit for bit, so every reader of y reads x instead.
///
/// Keras 3's ONNX export wraps almost every layer in `Cast(to: float)` of a float tensor (423 in a full B0);
/// types come from shape inference. Casts that do change the type (and narrowing round trips, which round) stay.
/// Runs after `fold-constants`, so that the integer shape arithmetic those Casts also wrap is already folded.
public struct EliminateCasts: GraphPass {
    public let name = "eliminate-casts"
    public init() {}

    public func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        let typed = try ShapeInference.infer(graph, opset: context.opset)
        let producers = graph.producers
        func dtype(_ value: String) -> DType? { typed.info(of: value)?.dtype }
        var identities = 0
        var roundTrips = 0
        for i in graph.nodes.indices {
            let node = graph.nodes[i]
            guard node.opType == "Cast", node.domain.isEmpty, let x = node.input(0), let code = node.int("to"),
                let target = DType(onnxCode: code), let source = dtype(x)
            else { continue }
            if source == target {
                graph.nodes[i] = Node(name: node.name, opType: "Identity", inputs: [x], outputs: node.outputs)
                identities += 1
                continue
            }
            // Cast(Cast(x, W), T) with x of type T and W a lossless widening of T.
            guard let p = producers[x], graph.nodes[p].opType == "Cast", graph.nodes[p].domain.isEmpty,
                let inner = graph.nodes[p].input(0), dtype(inner) == target,
                Self.holdsExactly(source, target)
            else { continue }
            graph.nodes[i] = Node(name: node.name, opType: "Identity", inputs: [inner], outputs: node.outputs)
            roundTrips += 1
        }
        let total = identities + roundTrips
        guard total > 0 else { return .unchanged }
        _ = try EliminateIdentity().run(&graph, context: context)
        return PassResult(
            changes: total, summary: "removed \(identities) Cast to the same type, \(roundTrips) exact round trips")
    }

    /// Whether every value of `narrow` converts to `wide` and back unchanged.
    static func holdsExactly(_ wide: DType, _ narrow: DType) -> Bool {
        switch (narrow, wide) {
        case (.float32, .float64): true
        case (.float16, .float32), (.float16, .float64), (.bfloat16, .float32), (.bfloat16, .float64): true
        case (.int8, .int16), (.int8, .int32), (.int8, .int64), (.int8, .float16), (.int8, .float32),
            (.int8, .float64):
            true
        case (.uint8, .int16), (.uint8, .int32), (.uint8, .int64), (.uint8, .float16), (.uint8, .float32),
            (.uint8, .float64):
            true
        case (.int16, .int32), (.int16, .int64), (.int16, .float32), (.int16, .float64): true
        case (.int32, .int64), (.int32, .float64): true
        case (.bool, _): wide != .bool
        default: false
        }
    }
}
