/// `Mul`: A · B,
/// elementwise with NumPy broadcasting (opset ≥ 7; the legacy `broadcast`/`axis` attributes before).
package enum MulOp: OperatorDefinition {
    static let opType = "Mul"
    static let isEvaluable = true
    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try Arithmetic.mul.infer(c) }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] { try Arithmetic.mul.evaluate(c) }
}
