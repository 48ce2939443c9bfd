/// `Add`: A + B,
/// elementwise with NumPy broadcasting (opset ≥ 7; the legacy `broadcast`/`axis` attributes before).
package enum AddOp: OperatorDefinition {
    static let opType = "Add"
    static let isEvaluable = true
    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try Arithmetic.add.infer(c) }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] { try Arithmetic.add.evaluate(c) }
}
