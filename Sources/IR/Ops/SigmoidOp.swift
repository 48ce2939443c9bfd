/// `Sigmoid`: y = 1 / (1 + e^−x), elementwise.
package enum SigmoidOp: OperatorDefinition {
    static let opType = "Sigmoid"
    static let isEvaluable = true
    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try UnaryMap.infer(c) }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] { try UnaryMap.evaluate(c, Activation.sigmoid) }
}
