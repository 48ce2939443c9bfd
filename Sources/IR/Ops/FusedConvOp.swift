/// effnet's `FusedConv` (domain `ai.effnet`): `activation(Conv(x, w, b))` with Conv's attributes and BatchNorm
/// already folded into w and b. `activation` is one of `Activation`'s names (default `none`).
package enum FusedConvOp: OperatorDefinition {
    static let opType = "FusedConv"
    static let domain = OpSupport.effnetDomain

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        _ = try activation(c.node, "activation")
        return [try ConvOp.inferConv(c, biasIndex: 2)]
    }

    /// A fused node's activation attribute (absent means `none`).
    static func activation(_ node: Node, _ key: String) throws -> Activation {
        guard let name = node.string(key) else { return .none }
        guard let a = Activation(attribute: name) else {
            throw IRError.invalidNode(node: node.label, message: "unknown \(key) '\(name)'")
        }
        return a
    }
}
