/// One block of a concrete network, with the channel counts its weights have.
public struct BlockSpec: Hashable, Sendable {
    public var stage: Int
    /// Position inside the stage.
    public var index: Int
    public var kind: BlockKind
    public var inChannels: Int
    /// Channels after expansion (the depthwise width of an MBConv, the k×k output of a Fused-MBConv).
    public var midChannels: Int
    public var outChannels: Int
    public var kernel: Int
    public var stride: Int
    /// Squeeze-excitation reduced width, nil without SE.
    public var seChannels: Int?
    /// MBConv: whether a 1×1 expansion conv precedes the depthwise conv (absent when expansion is 1).
    /// Fused-MBConv: always true (the k×k conv is the expansion).
    public var hasExpansion: Bool
    /// Whether a 1×1 projection ends the block (always for MBConv; for Fused-MBConv when it expands, or in
    /// timm's `er_e1` rw blocks).
    public var hasProjection: Bool

    public init(
        stage: Int, index: Int, kind: BlockKind, inChannels: Int, midChannels: Int, outChannels: Int, kernel: Int,
        stride: Int, seChannels: Int?, hasExpansion: Bool, hasProjection: Bool
    ) {
        self.stage = stage
        self.index = index
        self.kind = kind
        self.inChannels = inChannels
        self.midChannels = midChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.seChannels = seChannels
        self.hasExpansion = hasExpansion
        self.hasProjection = hasProjection
    }

    /// Every framework adds the input back exactly when shapes allow it: stride 1 and equal channel counts.
    public var hasResidual: Bool { stride == 1 && inChannels == outChannels }

    /// Expansion ratio mid / in (4 and 6 in the standard tables; exact for those, rounded for odd widths).
    public var expansionRatio: Double { Double(midChannels) / Double(inChannels) }

    /// SE ratio relative to the block input (the tables' 0.25), 0 without SE.
    public var seRatio: Double { seChannels.map { Double($0) / Double(inChannels) } ?? 0 }

    /// `blocks.3.0`: the canonical (timm) prefix of this block's layers and graph nodes.
    public var path: String { "blocks.\(stage).\(index)" }
}

/// A concrete EfficientNetV2 network: the stem, the blocks and the head with the widths its weights have.
public struct NetworkStructure: Hashable, Sendable {
    public var inputChannels: Int
    public var stemChannels: Int
    public var stemKernel: Int
    public var stemStride: Int
    public var blocks: [BlockSpec]
    public var headChannels: Int
    /// Classifier outputs; nil for a headless checkpoint (no classifier: the graph ends at the pooled features).
    public var numClasses: Int?

    public init(
        inputChannels: Int = 3, stemChannels: Int, stemKernel: Int = 3, stemStride: Int = 2, blocks: [BlockSpec],
        headChannels: Int, numClasses: Int?
    ) {
        self.inputChannels = inputChannels
        self.stemChannels = stemChannels
        self.stemKernel = stemKernel
        self.stemStride = stemStride
        self.blocks = blocks
        self.headChannels = headChannels
        self.numClasses = numClasses
    }

    public var stageCount: Int { (blocks.map(\.stage).max() ?? -1) + 1 }

    /// Blocks per stage: `[2, 4, 4, 6, 9, 15]` for V2-S.
    public var blocksPerStage: [Int] {
        var counts = [Int](repeating: 0, count: stageCount)
        for b in blocks { counts[b.stage] += 1 }
        return counts
    }

    /// Number of trainable parameters, as PyTorch's `sum(p.numel() for p in model.parameters())` counts them
    /// (convolutions, BatchNorm γ and β, SE and classifier biases; not the running statistics).
    public var parameterCount: Int {
        layers.reduce(0) { total, layer in
            switch layer.kind {
            case .conv(let out, let inPerGroup, let k, _, _, let bias):
                total + out * inPerGroup * k * k + (bias ? out : 0)
            case .batchNorm(let c): total + 2 * c
            case .linear(let out, let inp): total + out * inp + out
            }
        }
    }

    /// Number of BatchNorm running-statistic values (mean and variance): PyTorch buffers, Keras non-trainable.
    public var bufferCount: Int {
        layers.reduce(0) { total, layer in
            if case .batchNorm(let c) = layer.kind { return total + 2 * c }
            return total
        }
    }
}

// MARK: - Layers

/// What a layer of the network does; one entry per weight-holding layer.
public enum LayerRole: String, Hashable, Sendable {
    case stemConv, stemNorm
    /// Fused-MBConv k×k conv and its BatchNorm.
    case fusedConv, fusedNorm
    /// MBConv 1×1 expansion.
    case expandConv, expandNorm
    case depthwiseConv, depthwiseNorm
    case seReduce, seExpand
    case projectConv, projectNorm
    case headConv, headNorm
    case classifier
}

/// A weight-holding layer, named canonically (timm names; ONNX layouts: conv OIHW, linear [out, in]).
public struct Layer: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// `out × inPerGroup × k × k` weight; `bias` only for SE convs (every other conv is followed by BN).
        case conv(out: Int, inPerGroup: Int, kernel: Int, stride: Int, group: Int, bias: Bool)
        case batchNorm(channels: Int)
        case linear(out: Int, in: Int)
    }

    public var role: LayerRole
    /// Index into `NetworkStructure.blocks`, nil for stem, head and classifier.
    public var block: Int?
    /// `blocks.3.0.conv_pw`, `bn1`, `classifier`.
    public var name: String
    public var kind: Kind
}

extension NetworkStructure {
    /// Every weight-holding layer in forward order (the order of a PyTorch state dict and of Keras weights).
    public var layers: [Layer] {
        var out = [Layer]()
        let act = { (role: LayerRole, block: Int?, name: String, kind: Layer.Kind) in
            out.append(Layer(role: role, block: block, name: name, kind: kind))
        }
        act(
            .stemConv, nil, "conv_stem",
            .conv(
                out: stemChannels, inPerGroup: inputChannels, kernel: stemKernel, stride: stemStride, group: 1,
                bias: false))
        act(.stemNorm, nil, "bn1", .batchNorm(channels: stemChannels))
        for (i, b) in blocks.enumerated() {
            let p = b.path
            func se() {
                if let se = b.seChannels {
                    act(
                        .seReduce, i, p + ".se.conv_reduce",
                        .conv(out: se, inPerGroup: b.midChannels, kernel: 1, stride: 1, group: 1, bias: true))
                    act(
                        .seExpand, i, p + ".se.conv_expand",
                        .conv(out: b.midChannels, inPerGroup: se, kernel: 1, stride: 1, group: 1, bias: true))
                }
            }
            switch b.kind {
            case .fusedMBConv:
                // timm names: `conv`/`bn1` (ConvBnAct) without projection, `conv_exp`/`bn1`/`conv_pwl`/`bn2`
                // (EdgeResidual) with it.
                act(
                    .fusedConv, i, p + (b.hasProjection ? ".conv_exp" : ".conv"),
                    .conv(
                        out: b.midChannels, inPerGroup: b.inChannels, kernel: b.kernel, stride: b.stride, group: 1,
                        bias: false))
                act(.fusedNorm, i, p + ".bn1", .batchNorm(channels: b.midChannels))
                se()
                if b.hasProjection {
                    act(
                        .projectConv, i, p + ".conv_pwl",
                        .conv(
                            out: b.outChannels, inPerGroup: b.midChannels, kernel: 1, stride: 1, group: 1, bias: false))
                    act(.projectNorm, i, p + ".bn2", .batchNorm(channels: b.outChannels))
                }
            case .mbconv:
                // timm: InvertedResidual `conv_pw/bn1/conv_dw/bn2/se/conv_pwl/bn3`; without expansion the
                // DepthwiseSeparableConv names `conv_dw/bn1/se/conv_pw/bn2`.
                if b.hasExpansion {
                    act(
                        .expandConv, i, p + ".conv_pw",
                        .conv(out: b.midChannels, inPerGroup: b.inChannels, kernel: 1, stride: 1, group: 1, bias: false)
                    )
                    act(.expandNorm, i, p + ".bn1", .batchNorm(channels: b.midChannels))
                }
                act(
                    .depthwiseConv, i, p + ".conv_dw",
                    .conv(
                        out: b.midChannels, inPerGroup: 1, kernel: b.kernel, stride: b.stride, group: b.midChannels,
                        bias: false))
                act(.depthwiseNorm, i, p + (b.hasExpansion ? ".bn2" : ".bn1"), .batchNorm(channels: b.midChannels))
                se()
                act(
                    .projectConv, i, p + (b.hasExpansion ? ".conv_pwl" : ".conv_pw"),
                    .conv(out: b.outChannels, inPerGroup: b.midChannels, kernel: 1, stride: 1, group: 1, bias: false))
                act(.projectNorm, i, p + (b.hasExpansion ? ".bn3" : ".bn2"), .batchNorm(channels: b.outChannels))
            }
        }
        let last = blocks.last?.outChannels ?? stemChannels
        act(
            .headConv, nil, "conv_head",
            .conv(out: headChannels, inPerGroup: last, kernel: 1, stride: 1, group: 1, bias: false))
        act(.headNorm, nil, "bn2", .batchNorm(channels: headChannels))
        if let classes = numClasses { act(.classifier, nil, "classifier", .linear(out: classes, in: headChannels)) }
        return out
    }
}

extension Layer.Kind {
    /// The canonical (ONNX layout) shape of each parameter, by canonical parameter name.
    var canonicalParameters: [(name: String, shape: [Int])] {
        switch self {
        case .conv(let out, let inPerGroup, let k, _, _, let bias):
            return [("weight", [out, inPerGroup, k, k])] + (bias ? [("bias", [out])] : [])
        case .batchNorm(let c):
            return [("weight", [c]), ("bias", [c]), ("running_mean", [c]), ("running_var", [c])]
        case .linear(let out, let inp):
            return [("weight", [out, inp]), ("bias", [out])]
        }
    }
}
