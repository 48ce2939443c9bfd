/// `Sqrt`: √x elementwise (float inputs; NaN for negative x, as IEEE and onnxruntime give). Exporters that write
/// BatchNorm as arithmetic compute 1/√(σ² + ε) with it on constants, which constant folding then evaluates.
package enum SqrtOp: OperatorDefinition {
    static let opType = "Sqrt"
    static let isEvaluable = true
    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try UnaryMap.infer(c) }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] { try UnaryMap.evaluate(c) { $0.squareRoot() } }
}
