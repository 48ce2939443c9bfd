/// The three state-dict naming conventions of EfficientNetV2 checkpoints.
///
/// - timm: `conv_stem.weight`, `bn1.*`, `blocks.S.I.{conv, conv_exp, conv_pw, conv_dw, se.conv_reduce, se.conv_expand,
///   conv_pwl, bn1…bn3}.*`, `conv_head.weight`, `bn2.*`, `classifier.*`; BN `weight/bias/running_mean/running_var`
///   (+ `num_batches_tracked`); conv weights OIHW.
/// - torchvision: `features.0.{0,1}` stem, `features.S+1.I.block.J.{0,1}` (conv, BN) or `.fc1/.fc2` (SE),
///   `features.N+1.{0,1}` head, `classifier.1` linear.
/// - Keras: `stem_conv/kernel`, `stem_bn/{gamma,beta,moving_mean,moving_variance}`,
///   `block{S+1}{a,b,…}_{expand_conv,expand_bn,dwconv2,bn,se_reduce,se_expand,project_conv,project_bn}/…`
///   (EfficientNet V1, `EfficientNetB0`…`B7`: `dwconv` instead of `dwconv2`),
///   `top_conv`, `top_bn`, `predictions/{kernel,bias}`; conv kernels HWIO, depthwise kernels HWC1 (`dwconv2/kernel`; Keras 2: `depthwise_kernel`),
///   dense kernel [in, out].
/// - efficientnet-pytorch (EfficientNet B0…B7 and the Lite weight packages): `_conv_stem`, `_bn0`,
///   `_blocks.N.{_expand_conv, _bn0, _depthwise_conv, _bn1, _se_reduce, _se_expand, _project_conv, _bn2}`, numbered
///   over the whole network (no stage index), `_conv_head`, `_bn1`, `_fc`; layouts as PyTorch.
public enum NamingScheme: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case timm, torchvision, keras
    case efficientnetPytorch = "efficientnet-pytorch"

    public var description: String { rawValue }

    /// Whether BatchNorm layers carry a `num_batches_tracked` counter (accepted, not required, when reading).
    var hasBatchCounter: Bool { self != .keras }
}

/// One tensor of a scheme's state dict: its name and shape, and where it lives in the canonical weights.
public struct SchemeTensor: Hashable, Sendable {
    public var name: String
    /// Shape in the scheme's layout.
    public var shape: [Int]
    /// Canonical (timm, ONNX-layout) name: `blocks.3.0.conv_dw.weight`.
    public var canonicalName: String
    /// `shape[k] == canonicalShape[permutation[k]]`; the identity for timm and torchvision.
    public var permutation: [Int]
    /// Index into `NetworkStructure.layers`.
    public var layer: Int
    /// `num_batches_tracked`: an int64 scalar with no canonical counterpart.
    public var isCounter: Bool
}

extension NamingScheme {
    /// The full state-dict layout a framework has for `structure`, in the framework's own order.
    public func layout(of structure: NetworkStructure) -> [SchemeTensor] {
        var out = [SchemeTensor]()
        let layers = structure.layers
        for (li, layer) in layers.enumerated() {
            let prefix = layerName(layer, in: structure, layers: layers)
            let depthwise = layer.role == .depthwiseConv
            for p in layer.kind.canonicalParameters {
                let perm = permutation(for: layer.kind, rank: p.shape.count, depthwise: depthwise)
                out.append(
                    SchemeTensor(
                        name: prefix + separator + parameterName(p.name, of: layer.kind, depthwise: depthwise),
                        shape: perm.map { p.shape[$0] }, canonicalName: layer.name + "." + p.name, permutation: perm,
                        layer: li, isCounter: false))
            }
            if hasBatchCounter, case .batchNorm = layer.kind {
                out.append(
                    SchemeTensor(
                        name: prefix + ".num_batches_tracked", shape: [], canonicalName: "", permutation: [], layer: li,
                        isCounter: true))
            }
        }
        return out
    }

    var separator: String { self == .keras ? "/" : "." }

    private func parameterName(_ canonical: String, of kind: Layer.Kind, depthwise: Bool) -> String {
        guard self == .keras else { return canonical }
        switch (kind, canonical) {
        case (.batchNorm, "weight"): return "gamma"
        case (.batchNorm, "bias"): return "beta"
        case (.batchNorm, "running_mean"): return "moving_mean"
        case (.batchNorm, "running_var"): return "moving_variance"
        case (_, "weight"): return "kernel"  // Keras 3; Keras 2's `depthwise_kernel` is renamed on reading
        default: return canonical
        }
    }

    /// Keras stores conv kernels HWIO (`[kh, kw, in, out]`), depthwise kernels HWC1 and dense kernels `[in, out]`.
    private func permutation(for kind: Layer.Kind, rank: Int, depthwise: Bool) -> [Int] {
        guard self == .keras else { return Array(0..<rank) }
        switch (kind, rank) {
        case (.conv, 4): return depthwise ? [2, 3, 0, 1] : [2, 3, 1, 0]
        case (.linear, 2): return [1, 0]
        default: return Array(0..<rank)
        }
    }

    /// The scheme's name of a layer (without the parameter suffix).
    func layerName(_ layer: Layer, in structure: NetworkStructure, layers: [Layer]) -> String {
        switch self {
        case .timm: return layer.name
        case .torchvision: return torchvisionName(layer, structure: structure)
        case .keras: return kerasName(layer, structure: structure)
        case .efficientnetPytorch: return efficientnetPytorchName(layer, structure: structure)
        }
    }

    /// Whether block names carry a running block number instead of stage and position.
    var numbersBlocksFlat: Bool { self == .efficientnetPytorch }

    private func efficientnetPytorchName(_ layer: Layer, structure: NetworkStructure) -> String {
        switch layer.role {
        case .stemConv: return "_conv_stem"
        case .stemNorm: return "_bn0"
        case .headConv: return "_conv_head"
        case .headNorm: return "_bn1"
        case .classifier: return "_fc"
        default: break
        }
        let b = structure.blocks[layer.block!]
        let prefix = "_blocks.\(layer.block!)."
        switch layer.role {
        case .expandConv, .fusedConv: return prefix + "_expand_conv"
        case .expandNorm, .fusedNorm: return prefix + "_bn0"
        case .depthwiseConv: return prefix + "_depthwise_conv"
        case .depthwiseNorm: return prefix + "_bn1"
        case .seReduce: return prefix + "_se_reduce"
        case .seExpand: return prefix + "_se_expand"
        case .projectConv: return prefix + "_project_conv"
        default: return prefix + (b.kind == .mbconv ? "_bn2" : "_bn1")
        }
    }

    private func torchvisionName(_ layer: Layer, structure: NetworkStructure) -> String {
        switch layer.role {
        case .stemConv: return "features.0.0"
        case .stemNorm: return "features.0.1"
        case .headConv: return "features.\(structure.stageCount + 1).0"
        case .headNorm: return "features.\(structure.stageCount + 1).1"
        case .classifier: return "classifier.1"
        default: break
        }
        let b = structure.blocks[layer.block!]
        // Positions inside the block's nn.Sequential, in forward order.
        var units = [LayerRole]()
        switch b.kind {
        case .fusedMBConv:
            units = [.fusedConv] + (b.seChannels != nil ? [.seReduce] : []) + (b.hasProjection ? [.projectConv] : [])
        case .mbconv:
            units =
                (b.hasExpansion ? [.expandConv] : []) + [.depthwiseConv] + (b.seChannels != nil ? [.seReduce] : [])
                + [.projectConv]
        }
        let unit: LayerRole
        let tail: String
        switch layer.role {
        case .fusedConv: (unit, tail) = (.fusedConv, "0")
        case .fusedNorm: (unit, tail) = (.fusedConv, "1")
        case .expandConv: (unit, tail) = (.expandConv, "0")
        case .expandNorm: (unit, tail) = (.expandConv, "1")
        case .depthwiseConv: (unit, tail) = (.depthwiseConv, "0")
        case .depthwiseNorm: (unit, tail) = (.depthwiseConv, "1")
        case .seReduce: (unit, tail) = (.seReduce, "fc1")
        case .seExpand: (unit, tail) = (.seReduce, "fc2")
        case .projectConv: (unit, tail) = (.projectConv, "0")
        default: (unit, tail) = (.projectConv, "1")
        }
        return "features.\(b.stage + 1).\(b.index).block.\(units.firstIndex(of: unit)!).\(tail)"
    }

    private func kerasName(_ layer: Layer, structure: NetworkStructure) -> String {
        switch layer.role {
        case .stemConv: return "stem_conv"
        case .stemNorm: return "stem_bn"
        case .headConv: return "top_conv"
        case .headNorm: return "top_bn"
        case .classifier: return "predictions"
        default: break
        }
        let b = structure.blocks[layer.block!]
        let prefix = "block\(b.stage + 1)\(NamingScheme.kerasLetter(b.index))_"
        switch layer.role {
        case .fusedConv: return prefix + (b.hasProjection ? "expand_conv" : "project_conv")
        case .fusedNorm: return prefix + (b.hasProjection ? "expand_bn" : "project_bn")
        case .expandConv: return prefix + "expand_conv"
        case .expandNorm: return prefix + "expand_bn"
        case .depthwiseConv: return prefix + (structure.isKerasV1 ? "dwconv" : "dwconv2")
        case .depthwiseNorm: return prefix + "bn"
        case .seReduce: return prefix + "se_reduce"
        case .seExpand: return prefix + "se_expand"
        case .projectConv: return prefix + "project_conv"
        default: return prefix + "project_bn"
        }
    }

    /// Keras names block `j` of a stage `chr(j + 97)`: a…z, then `{`, `|`, … for very deep stages.
    static func kerasLetter(_ index: Int) -> String {
        String(Character(Unicode.Scalar(UInt32(97 + index)) ?? "?"))
    }
}

extension NetworkStructure {
    /// Keras names the depthwise conv `dwconv` in EfficientNet (V1: every block an MBConv) and `dwconv2` in
    /// EfficientNetV2 (whose early stages are always Fused-MBConv).
    var isKerasV1: Bool { !blocks.isEmpty && blocks.allSatisfy { $0.kind == .mbconv } }
}
