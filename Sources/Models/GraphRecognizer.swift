import IR

/// Why a graph cannot be read back as an EfficientNetV2.
public enum GraphRecognitionError: Error, CustomStringConvertible, Equatable, Sendable {
    case notEfficientNetV2(node: String, reason: String)
    case nonConstantWeight(node: String, value: String)

    public var description: String {
        switch self {
        case .notEfficientNetV2(let node, let reason): "not an EfficientNetV2 graph at node '\(node)': \(reason)"
        case .nonConstantWeight(let node, let value):
            "node '\(node)' reads its weight '\(value)' from a computed value; only constant weights can be exported"
        }
    }
}

/// An EfficientNetV2 read back from a graph: its structure and, per conv, the weights the graph holds.
public struct RecognizedModel: Sendable {
    public var structure: NetworkStructure
    /// The network's activation: `silu` (EfficientNet, V2) or `relu6` (EfficientNet-Lite).
    public var activation: String
    /// TF SAME (auto_pad, Pad nodes or asymmetric pads) or symmetric; what the graph's convs do.
    public var padding: PaddingStyle
    /// Epsilon of the graph's BatchNormalization nodes; nil when every BN was folded into its conv.
    public var batchNormEpsilon: Float?
    /// Whether convolutions carry their BatchNorm folded in (no BatchNormalization node after them).
    public var batchNormFolded: Bool
    public var channelsLast: Bool
    public var softmaxOutput: Bool

    /// Per canonical conv layer name (`blocks.3.0.conv_dw`): OIHW weight, optional bias, optional BN parameters.
    var convs: [String: ConvUnit]
    var classifier: (weight: Tensor, bias: Tensor)?

    struct ConvUnit: Sendable {
        var weight: Tensor
        var bias: Tensor?
        /// γ, β, μ, σ² of an explicit BatchNormalization after the conv.
        var norm: [Tensor]?
    }

    /// Canonical weights. An explicit BatchNorm is kept as it is (a conv bias b before it moves into the mean:
    /// μ' = μ − b, exact up to one rounding). A folded conv `W·x + b` becomes the conv plus an *identity* BatchNorm
    /// γ = 1, β = b, μ = 0, σ² = v with v the float32 for which `v + ε` rounds to exactly 1, so that the
    /// framework's float32 `γ / √(σ² + ε)` is exactly 1 and `BN(W·x) = W·x + b` bit for bit; frameworks cannot
    /// store a conv bias where their model has none. (In float64 the scale is 1 within 2⁻²⁴.)
    public func weights(epsilon: Float) -> ModelWeights {
        var out = ModelWeights()
        var normOf = [String: String]()  // BN layer name → conv layer name
        let layers = structure.layers
        for (i, layer) in layers.enumerated() where i > 0 {
            if case .batchNorm = layer.kind { normOf[layer.name] = layers[i - 1].name }
        }
        for layer in layers {
            switch layer.kind {
            case .conv(let outChannels, _, _, _, _, let hasBias):
                let unit = convs[layer.name]!
                out[layer.name + ".weight"] = unit.weight
                if hasBias { out[layer.name + ".bias"] = unit.bias ?? .zeros(.float32, shape: [outChannels]) }
            case .batchNorm(let c):
                let unit = convs[normOf[layer.name]!]!
                let (gamma, beta, mean, variance): (Tensor, Tensor, Tensor, Tensor)
                if let norm = unit.norm {
                    (gamma, beta, variance) = (norm[0], norm[1], norm[3])
                    if let b = unit.bias {
                        mean = Tensor(shape: [c], floats: zip(norm[2].floats, b.floats).map { $0 - $1 })
                    } else {
                        mean = norm[2]
                    }
                } else {
                    gamma = Tensor(shape: [c], floats: Array(repeating: 1, count: c))
                    beta = unit.bias ?? .zeros(.float32, shape: [c])
                    mean = .zeros(.float32, shape: [c])
                    variance = Tensor(
                        shape: [c], floats: Array(repeating: RecognizedModel.identityVariance(epsilon), count: c))
                }
                out[layer.name + ".weight"] = gamma
                out[layer.name + ".bias"] = beta
                out[layer.name + ".running_mean"] = mean
                out[layer.name + ".running_var"] = variance
            case .linear:
                out[layer.name + ".weight"] = classifier!.weight
                out[layer.name + ".bias"] = classifier!.bias
            }
        }
        return out
    }

    /// The float32 v with `v + ε == 1` exactly in float32 (round to nearest): the identity BatchNorm variance.
    public static func identityVariance(_ epsilon: Float) -> Float {
        var v: Float = 1 - epsilon
        while v + epsilon > 1 { v = v.nextDown }
        while v + epsilon < 1 { v = v.nextUp }
        return v
    }
}

/// Reads an EfficientNetV2 back from a graph: the builder's own, an optimized one (BN folded, fused `ai.effnet`
/// ops, whose `body` sub-graphs are inlined first), or a `torch.onnx.export` of a timm / torchvision model
/// (folded or explicit BN, SE as GlobalAveragePool or ReduceMean, timm `tf_` Pad sub-graphs, Gemm or MatMul head).
///
/// How: every convolution is summarized (weight, bias, following BatchNormalization, following SiLU, whether it
/// reads a pooled value: SE), then the sequence of convs is parsed block by block —
/// Fused-MBConv = dense k×k+act [SE] [1×1 without act]; MBConv = [1×1+act] depthwise+act [SE] 1×1 without act —
/// and residual Adds are checked against the rule every framework uses (stride 1 and equal channels).
public enum GraphRecognizer {
    public static func recognize(_ graph: Graph) throws -> RecognizedModel {
        let flat = try inlineFusedBodies(graph).sorted()
        let scan = try ConvScan(flat)
        return try scan.parse()
    }

    /// Replaces every node that has a `body` sub-graph by the body's nodes, renaming body-internal values.
    static func inlineFusedBodies(_ graph: Graph) -> Graph {
        var out = graph
        out.nodes = []
        for node in graph.nodes {
            guard let body = node.graph("body") else {
                out.nodes.append(node)
                continue
            }
            var rename = [String: String]()
            for (k, input) in body.inputs.enumerated() where k < node.inputs.count {
                rename[input.name] = node.inputs[k]
            }
            for (k, output) in body.outputs.enumerated() where k < node.outputs.count {
                rename[output.name] = node.outputs[k]
            }
            let scope = node.label + "/"
            for (name, tensor) in body.initializers {
                rename[name] = scope + name
                out.initializers[scope + name] = tensor
            }
            let inner = inlineFusedBodies(body)
            for n in inner.nodes {
                for o in n.outputs where rename[o] == nil && !o.isEmpty { rename[o] = scope + o }
            }
            for var n in inner.nodes {
                n.name = scope + n.name
                n.inputs = n.inputs.map { rename[$0] ?? $0 }
                n.outputs = n.outputs.map { rename[$0] ?? $0 }
                out.nodes.append(n)
            }
        }
        return out
    }
}
