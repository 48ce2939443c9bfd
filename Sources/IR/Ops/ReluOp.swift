/// `Relu`: y = max(0, x), elementwise (float and, from opset 14, signed integer inputs).
package enum ReluOp: OperatorDefinition {
    static let opType = "Relu"
    static let isEvaluable = true
    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try UnaryMap.infer(c, floatOnly: false) }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        try UnaryMap.evaluate(c) { $0 < 0 ? 0 : $0 }
    }
}
