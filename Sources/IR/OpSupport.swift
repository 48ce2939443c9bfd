/// The operators effnet understands: everything the real exporters emit for EfficientNetV2 (TorchScript and
/// dynamo `torch.onnx.export`, timm `tf_` SAME-padding subgraphs) plus effnet's own fused ops.
public enum OpSupport {
    /// Standard `ai.onnx` operators.
    public static let onnxOps: Set<String> = [
        "Conv", "BatchNormalization", "Sigmoid", "Mul", "Add", "Sub", "Div", "Clip", "Relu", "HardSigmoid",
        "HardSwish", "GlobalAveragePool", "ReduceMean", "Flatten", "Reshape", "Gemm", "MatMul", "Identity",
        "Dropout", "Constant", "Shape", "Gather", "Cast", "Ceil", "Floor", "Unsqueeze", "Squeeze", "Concat",
        "ConstantOfShape", "Slice", "Transpose", "Pad", "Softmax", "Sqrt",
    ]

    /// The domain of effnet's fused operators (see DEVELOPERS.md, "Fused ops").
    public static let effnetDomain = "ai.effnet"

    /// effnet's fused operators.
    public static let effnetOps: Set<String> = ["MBConv", "FusedMBConv", "FusedConv", "SqueezeExcite", "Silu"]

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
