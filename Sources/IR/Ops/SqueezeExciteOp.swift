/// effnet's `SqueezeExcite` (domain `ai.effnet`): y = x · gate(W₂·act(W₁·mean_hw(x) + b₁) + b₂), left standing
/// when the optimizer finds squeeze-excitation outside a whole MBConv block. Its types come from its `body`,
/// as for `MBConv`.
package enum SqueezeExciteOp: OperatorDefinition {
    static let opType = "SqueezeExcite"
    static let domain = OpSupport.effnetDomain

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try FusedBlock.infer(c) }
}
