/// effnet's `MBConv` (domain `ai.effnet`): expand 1×1 → depthwise k×k → squeeze-excitation → project 1×1
/// (+ residual). Its types come from its `body` sub-graph, the exact standard nodes it replaced, inferred
/// with the outer graph's initializers in scope.
enum MBConvOp: OperatorDefinition {
    static let opType = "MBConv"
    static let domain = OpSupport.effnetDomain

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try FusedBlock.infer(c) }
}

/// Shared by MBConv and FusedMBConv: infer the `body` with the fused node's inputs bound to its inputs.
enum FusedBlock {
    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        for key in ["activation", "se_activation"] { _ = try FusedConvOp.activation(c.node, key) }
        if let gate = c.node.string("se_gate"), !["sigmoid", "hardsigmoid"].contains(gate) {
            throw c.fail("unknown se_gate '\(gate)'")
        }
        guard let body = c.node.graph("body") else { throw c.fail("\(c.node.opType) has no 'body' sub-graph") }
        guard body.inputs.count <= c.node.inputs.count, body.outputs.count == c.node.outputs.count else {
            throw c.fail(
                "body takes \(body.inputs.count) inputs and gives \(body.outputs.count) outputs for a node with \(c.node.inputs.count) and \(c.node.outputs.count)"
            )
        }
        var bound = [String: ValueFacts]()
        for (i, info) in body.inputs.enumerated() {
            bound[info.name] = c.input(i) ?? ValueFacts(dtype: info.dtype, shape: info.shape)
        }
        let analysis: ShapeInference.Analysis
        do {
            analysis = try ShapeInference.analyze(body, opset: c.opset, scope: c.scope, bound: bound)
        } catch let error as IRError {
            throw c.fail("in body: \(error)")
        }
        return body.outputs.map { analysis.facts[$0.name] ?? ValueFacts() }
    }
}
