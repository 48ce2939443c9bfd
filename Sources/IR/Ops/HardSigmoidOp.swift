/// `HardSigmoid`: y = max(0, min(1, α·x + β)) with α = 0.2, β = 0.5 unless the attributes say otherwise.
package enum HardSigmoidOp: OperatorDefinition {
    static let opType = "HardSigmoid"
    static let isEvaluable = true
    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try UnaryMap.infer(c) }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let (alpha, beta) = parameters(c.node)
        return try UnaryMap.evaluate(c) { Activation.hardSigmoid($0, alpha: alpha, beta: beta) }
    }

    /// (α, β) as Double; the attributes are float32, so α = 0.2 is the float nearest 0.2, as onnxruntime uses.
    static func parameters(_ node: Node) -> (Double, Double) {
        (Double(node.float("alpha") ?? 0.2), Double(node.float("beta") ?? 0.5))
    }
}
