/// The operators effnet understands: everything the real exporters emit for EfficientNetV2 (TorchScript and
/// dynamo `torch.onnx.export`, timm `tf_` SAME-padding subgraphs) plus effnet's own fused ops. Derived from
/// `OperatorRegistry`, the one list of operator definitions.
public enum OpSupport {
    /// Standard `ai.onnx` operators: those with a definition in `OperatorRegistry`.
    public static let onnxOps: Set<String> = Set(OperatorRegistry.onnx.map { $0.opType })

    /// Standard operators the IR can evaluate on known inputs (shape arithmetic, light elementwise ops).
    public static let evaluableOps: Set<String> = Set(OperatorRegistry.onnx.filter { $0.isEvaluable }.map { $0.opType })

    /// The domain of effnet's fused operators (see DEVELOPERS.md, "Fused ops").
    public static let effnetDomain = "ai.effnet"

    /// effnet's fused operators.
    public static let effnetOps: Set<String> = Set(OperatorRegistry.effnet.map { $0.opType })

    public static func isSupported(opType: String, domain: String) -> Bool {
        switch domain {
        case "", "ai.onnx": onnxOps.contains(opType)
        case effnetDomain: effnetOps.contains(opType)
        default: false
        }
    }

    /// Every node whose operator is not supported, in graph order (sub-graphs of fused ops included).
    public static func unsupported(in graph: Graph) -> [IRError.UnsupportedOp] {
        var found = [IRError.UnsupportedOp]()
        for node in graph.nodes {
            if !isSupported(opType: node.opType, domain: node.domain) {
                found.append(IRError.UnsupportedOp(opType: node.opType, domain: node.domain, node: node.label))
            }
            for attribute in node.attributes.values {
                if case .graph(let body) = attribute { found += unsupported(in: body) }
            }
        }
        return found
    }

    /// Throws one `IRError.unsupportedOps` naming every unsupported operator, before anything runs.
    public static func check(_ graph: Graph) throws {
        let found = unsupported(in: graph)
        if !found.isEmpty { throw IRError.unsupportedOps(found) }
    }
}
