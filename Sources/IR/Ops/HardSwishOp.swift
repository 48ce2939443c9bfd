/// `HardSwish` (opset 14): y = x · max(0, min(1, x/6 + 1/2)).
package enum HardSwishOp: OperatorDefinition {
    static let opType = "HardSwish"
    static let isEvaluable = true
    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try UnaryMap.infer(c) }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] { try UnaryMap.evaluate(c, Activation.hardSwish) }
}
