/// Width/depth scaling with each framework's rounding rules, reproducing the structure the framework would build.
extension Architecture {
    /// The network this architecture builds with its own multipliers (or the given ones) and `numClasses` outputs.
    ///
    /// Rules, per framework (checked against the frameworks' state dicts by the layout tests):
    /// - channels: `rounding.round(c, w)`; stem from the stem width, head only when `headScales`;
    /// - repeats: `⌈r · d⌉` (timm `_scale_stage_depth` with one block string per stage, Keras `round_repeats`);
    /// - expanded width: timm / torchvision `make_divisible(in · e)`, Keras `in · e`;
    /// - SE width: timm `round_half_even(mid · ratio / e)`, torchvision `max(1, in // 4)`,
    ///   Keras `max(1, ⌊in · ratio⌋)`.
    public func structure(width: Double? = nil, depth: [Double]? = nil, numClasses: Int? = 1000) -> NetworkStructure {
        let w = width ?? widthMultiplier
        let d = depth ?? depthMultipliers
        precondition(d.count == stages.count, "one depth multiplier per stage")
        let stem = stemScales ? rounding.round(stemChannels, w) : stemChannels
        var blocks = [BlockSpec]()
        var inChannels = stem
        for (s, stage) in stages.enumerated() {
            let out = rounding.round(stage.outChannels, w)
            let repeats = Int((Double(stage.repeats) * d[s]).rounded(.up))
            for i in 0..<repeats {
                blocks.append(block(stage: s, index: i, spec: stage, in: inChannels, out: out))
                inChannels = out
            }
        }
        var head = headScales ? rounding.round(headChannels, w) : headChannels
        if headTimesLastStage > 0 { head = headTimesLastStage * inChannels }
        return NetworkStructure(stemChannels: stem, blocks: blocks, headChannels: head, numClasses: numClasses)
    }

    private func block(stage s: Int, index i: Int, spec: StageSpec, in cin: Int, out: Int) -> BlockSpec {
        let stride = i == 0 ? spec.stride : 1
        let e = spec.expansion
        let divisible = ChannelRounding.divisible(roundLimit: 0.9)
        var mid: Int
        switch scheme {
        case .timm, .torchvision: mid = divisible.round(cin, Double(e))
        case .keras, .efficientnetPytorch: mid = cin * e
        }
        var se: Int?
        if spec.seRatio > 0 {
            switch scheme {
            case .timm: se = Int((Double(mid) * (spec.seRatio / Double(e))).rounded(.toNearestOrEven))
            case .torchvision: se = max(1, cin / 4)
            case .keras, .efficientnetPytorch: se = max(1, Int(Double(cin) * spec.seRatio))
            }
        } else if spec.kind == .mbconv, scheme == .torchvision {
            se = max(1, cin / 4)  // torchvision's MBConv always has SE
        }
        switch spec.kind {
        case .fusedMBConv:
            let projects: Bool
            switch scheme {
            case .timm: projects = e != 1 || spec.projectsWithoutExpansion
            case .torchvision: projects = mid != cin
            case .keras, .efficientnetPytorch: projects = e != 1
            }
            if !projects { mid = out }
            return BlockSpec(
                stage: s, index: i, kind: .fusedMBConv, inChannels: cin, midChannels: mid, outChannels: out,
                kernel: spec.kernel, stride: stride, seChannels: se, hasExpansion: true, hasProjection: projects)
        case .mbconv:
            // timm's e1 block is a DepthwiseSeparableConv (EfficientNet stage 1); the others derive it from widths.
            let expands = scheme == .timm || scheme == .efficientnetPytorch ? e != 1 : mid != cin
            return BlockSpec(
                stage: s, index: i, kind: .mbconv, inChannels: cin, midChannels: expands ? mid : cin, outChannels: out,
                kernel: spec.kernel, stride: stride, seChannels: se, hasExpansion: expands, hasProjection: true)
        }
    }

    /// The stride of each stage's first block (the same pattern in every EfficientNetV2: 1, 2, 2, 2, 1, 2, 1).
    public var stageStrides: [Int] { stages.map(\.stride) }
}
