/// `Cast`: converts elements to the type `to` names (an ONNX `TensorProto.DataType` code). Float → integer
/// truncates toward zero and float → float rounds to nearest even, as onnxruntime does for in-range values;
/// anything → bool is `x ≠ 0`.
package enum CastOp: OperatorDefinition {
    static let opType = "Cast"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "input")
        let target = try targetType(c.node)
        var out = facts(target, x.shape)
        // Integer → integer keeps element knowledge (sizes are far from any width's limits).
        if target.isInteger, x.dtype?.isInteger == true { out.elements = x.elements }
        return [out]
    }

    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let x = try c.required(0, "input")
        let target = try targetType(c.node)
        if target.isInteger, x.dtype.isInteger || x.dtype == .bool {
            return [Tensor.wrapping(x.exactInt64s, to: target, shape: x.shape)]
        }
        return [x.converted(to: target)]
    }

    static func targetType(_ node: Node) throws -> DType {
        guard let code = node.int("to") else {
            throw IRError.invalidNode(node: node.label, message: "missing attribute 'to'")
        }
        guard let t = DType(onnxCode: code) else {
            throw IRError.invalidNode(node: node.label, message: "cannot cast to ONNX data type \(code)")
        }
        return t
    }
}
