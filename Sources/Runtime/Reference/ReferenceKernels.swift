import KernelCore
import IR

/// Dispatch from a node to its reference kernel. Heavy numeric ops have scalar kernels here (Double
/// accumulation); everything else runs through `ConstantEvaluator`.
enum ReferenceKernels {
    static func execute(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        func input(_ i: Int, _ role: String) throws -> Tensor {
            guard i < inputs.count, let t = inputs[i] else {
                throw IRError.invalidNode(node: node.label, message: "missing required input \(i) (\(role))")
            }
            return t
        }
        func optional(_ i: Int) -> Tensor? { i < inputs.count ? inputs[i] : nil }

        if node.domain == OpSupport.effnetDomain {
            switch node.opType {
            case "FusedConv":
                let activation = try FusedConvOp.activation(node, "activation")
                return [try conv(try input(0, "X"), try input(1, "W"), optional(2), node: node, activation: activation)]
            default:
                return try ConstantEvaluator.evaluate(node: node, inputs: inputs, opset: opset)
            }
        }
        switch node.opType {
        case "Conv":
            return [try conv(try input(0, "X"), try input(1, "W"), optional(2), node: node, activation: .none)]
        case "BatchNormalization":
            return try batchNormalization(
                try input(0, "X"), scale: try input(1, "scale"), bias: try input(2, "B"), mean: try input(3, "mean"),
                variance: try input(4, "var"), node: node)
        case "Gemm":
            return [try gemm(try input(0, "A"), try input(1, "B"), optional(2), node: node)]
        case "MatMul":
            return [try matMul(try input(0, "A"), try input(1, "B"), node: node)]
        case "GlobalAveragePool":
            return [try globalAveragePool(try input(0, "X"), node: node)]
        case "ReduceMean":
            return [
                try reduceMean(try input(0, "data"), axes: opset >= 18 ? optional(1) : nil, node: node, opset: opset)
            ]
        case "Softmax":
            return [try softmax(try input(0, "input"), node: node, opset: opset)]
        default:
            return try ConstantEvaluator.evaluate(node: node, inputs: inputs, opset: opset)
        }
    }

    static func requireFloat(_ t: Tensor, _ node: Node) throws {
        guard t.dtype.isFloatingPoint else {
            throw IRError.invalidNode(node: node.label, message: "\(node.opType) needs float inputs, got \(t.dtype)")
        }
    }
}
