/// effnet's `FusedMBConv` (domain `ai.effnet`): k×k conv → squeeze-excitation → project 1×1 (+ residual).
/// Its types come from its `body` sub-graph, as for `MBConv`.
package enum FusedMBConvOp: OperatorDefinition {
    static let opType = "FusedMBConv"
    static let domain = OpSupport.effnetDomain

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try FusedBlock.infer(c) }
}
