/// `Identity`: the input, unchanged (torch exports share initializers through it).
package enum IdentityOp: OperatorDefinition {
    static let opType = "Identity"
    static let isEvaluable = true
    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { [try c.required(0, "input")] }
    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] { [try c.required(0, "input")] }
}
