/// effnet's `FusedConv` (domain `ai.effnet`): `activation(Conv(x, w, b))` with Conv's attributes and BatchNorm
/// already folded into w and b. `activation` is one of `Activation`'s names (default `none`).
package enum FusedConvOp: OperatorDefinition {
    static let opType = "FusedConv"
    static let domain = OpSupport.effnetDomain

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        _ = try activation(c.node, "activation")
        return [try ConvOp.inferConv(c, biasIndex: 2)]
    }

    /// A fused node's activation attribute `key` (`activation`, `se_activation`, `se_gate`). Absent means `none` on
    /// `FusedConv`; on MBConv / FusedMBConv, `silu` for `activation` and `se_activation` and `sigmoid` for `se_gate`.
    package static func activation(_ node: Node, _ key: String) throws -> Activation {
        guard let name = node.string(key) else {
            if node.opType == opType { return .none }
            return key == "se_gate" ? .sigmoid : .silu
        }
        guard let a = Activation(attribute: name) else {
            throw IRError.invalidNode(node: node.label, message: "unknown \(key) '\(name)'")
        }
        return a
    }
}
