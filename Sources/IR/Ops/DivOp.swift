/// `Div`: A ÷ B (integers truncate toward zero, as onnxruntime),
/// elementwise with NumPy broadcasting (opset ≥ 7; the legacy `broadcast`/`axis` attributes before).
package enum DivOp: OperatorDefinition {
    static let opType = "Div"
    static let isEvaluable = true
    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try Arithmetic.div.infer(c) }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] { try Arithmetic.div.evaluate(c) }
}
