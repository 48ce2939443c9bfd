/// effnet's `MBConv` (domain `ai.effnet`): expand 1×1 → depthwise k×k → squeeze-excitation → project 1×1
/// (+ residual). Its types come from its `body` sub-graph, the exact standard nodes it replaced, inferred
/// with the outer graph's initializers in scope.
package enum MBConvOp: OperatorDefinition {
    static let opType = "MBConv"
    static let domain = OpSupport.effnetDomain

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] { try FusedBlock.infer(c) }
}

/// Shared by MBConv and FusedMBConv: infer the `body` with the fused node's inputs bound to its inputs.
enum FusedBlock {
    /// A block without a `body` (built for the native runtime alone, which needs none): the spatial size from
    /// its k×k convolution's attributes, the channels from its last convolution's weights.
    static func inferFromAttributes(_ c: InferenceContext) throws -> [ValueFacts] {
        let x = try c.required(0, "X")
        let isMBConv = c.node.opType == "MBConv"
        let (convWeight, projectWeight) = isMBConv ? (3, 9) : (1, 7)
        guard let kernel = c.node.ints("kernel_shape"), kernel.count == 2 else {
            throw c.fail("\(c.node.opType) needs a 2-D 'kernel_shape'")
        }
        let attributes = try ConvGeometry.Attributes(node: c.node, spatial: 2)
        let channels = (c.shape(projectWeight) ?? c.shape(convWeight))?.first ?? .unknown
        guard let xs = x.shape else { return [facts(x.dtype, nil)] }
        guard xs.count == 4 else { throw c.fail("\(c.node.opType) needs a rank-4 input, got \(xs.text)") }
        var out: Shape = [xs[0], channels]
        for i in 0..<2 { out.append(try attributes.outputDim(xs[2 + i], axis: i, kernel: kernel[i], node: c.node)) }
        return [facts(x.dtype, out)]
    }

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        for key in ["activation", "se_activation"] { _ = try FusedConvOp.activation(c.node, key) }
        if let gate = c.node.string("se_gate"), !["sigmoid", "hardsigmoid"].contains(gate) {
            throw c.fail("unknown se_gate '\(gate)'")
        }
        guard let body = c.node.graph("body") else { return try inferFromAttributes(c) }
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
