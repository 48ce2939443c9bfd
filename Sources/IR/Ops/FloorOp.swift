/// `Floor`: the greatest integer ≤ x, elementwise (float inputs).
package enum FloorOp: OperatorDefinition {
    static let opType = "Floor"
    static let isEvaluable = true
    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try UnaryMap.infer(c) }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] { try UnaryMap.evaluate(c) { $0.rounded(.down) } }
}
