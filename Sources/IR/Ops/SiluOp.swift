/// effnet's `Silu` (domain `ai.effnet`): y = x · σ(x), the fused form of `Mul(x, Sigmoid(x))`.
package enum SiluOp: OperatorDefinition {
    static let opType = "Silu"
    static let domain = OpSupport.effnetDomain
    static let isEvaluable = true
    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try UnaryMap.infer(c) }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        try UnaryMap.evaluate(c) { Activation.silu.apply($0) }
    }
}
