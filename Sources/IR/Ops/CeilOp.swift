/// `Ceil`: the least integer ≥ x, elementwise (float inputs).
package enum CeilOp: OperatorDefinition {
    static let opType = "Ceil"
    static let isEvaluable = true
    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try UnaryMap.infer(c) }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] { try UnaryMap.evaluate(c) { $0.rounded(.up) } }
}
