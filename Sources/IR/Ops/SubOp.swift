/// `Sub`: A − B,
/// elementwise with NumPy broadcasting (opset ≥ 7; the legacy `broadcast`/`axis` attributes before).
package enum SubOp: OperatorDefinition {
    static let opType = "Sub"
    static let isEvaluable = true
    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try Arithmetic.sub.infer(c) }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] { try Arithmetic.sub.evaluate(c) }
}
