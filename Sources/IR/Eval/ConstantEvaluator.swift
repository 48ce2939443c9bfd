/// Computes the outputs of a light operator from concrete inputs: broadcasting arithmetic in the input's
/// dtype, Cast, Shape, Gather, Concat, Unsqueeze/Squeeze, Reshape/Flatten, Slice, Transpose, ConstantOfShape,
/// Pad, Ceil/Floor, Clip, Identity, Constant, Dropout and the elementwise activations.
///
/// Used by shape inference (to resolve data-dependent shapes), by the optimizer's constant folding and by the
/// reference interpreter for these ops, so all three agree by construction. Convolution, Gemm/MatMul,
/// BatchNormalization, pooling, reductions and Softmax are never folded: their scalar `reference` sits beside their
/// definition (`reference(node:inputs:opset:)`, the reference interpreter's entry), and fused blocks run their body.
public enum ConstantEvaluator {
    /// Whether `evaluate` implements this node's operator.
    public static func canEvaluate(_ node: Node) -> Bool {
        OperatorRegistry.definition(opType: node.opType, domain: node.domain)?.isEvaluable ?? false
    }

    /// Evaluates `node` on one tensor per node input, nil for an omitted optional input.
    public static func evaluate(node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        guard let definition = OperatorRegistry.definition(opType: node.opType, domain: node.domain) else {
            throw IRError.unsupportedOps([.init(opType: node.opType, domain: node.domain, node: node.label)])
        }
        guard definition.isEvaluable else {
            throw IRError.invalidNode(node: node.label, message: "\(node.opType) cannot be evaluated at compile time")
        }
        let outputs = try definition.evaluate(EvaluationContext(node: node, opset: opset, inputs: inputs))
        // Optional outputs the node does not name are dropped; a node never names more than the op gives.
        return Array(outputs.prefix(node.outputs.count))
    }

    /// The reference interpreter's evaluation of `node` on one tensor per node input (nil for an omitted optional
    /// input): the op's scalar `reference` (for the light ops, `evaluate`), from the same registry.
    public static func reference(node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        guard let definition = OperatorRegistry.definition(opType: node.opType, domain: node.domain) else {
            throw IRError.unsupportedOps([.init(opType: node.opType, domain: node.domain, node: node.label)])
        }
        let outputs = try definition.reference(EvaluationContext(node: node, opset: opset, inputs: inputs))
        return Array(outputs.prefix(node.outputs.count))
    }

    /// Evaluates `node` on its present inputs in order (inputs with an empty name, i.e. omitted, are skipped).
    public static func evaluate(node: Node, inputs: [Tensor], opset: Int) throws -> [Tensor] {
        var given = inputs.makeIterator()
        var aligned = [Tensor?]()
        for name in node.inputs {
            if name.isEmpty {
                aligned.append(nil)
            } else {
                guard let t = given.next() else {
                    throw IRError.invalidNode(
                        node: node.label,
                        message: "got \(inputs.count) inputs for \(node.inputs.filter { !$0.isEmpty }.count)")
                }
                aligned.append(t)
            }
        }
        return try evaluate(node: node, inputs: aligned, opset: opset)
    }
}
