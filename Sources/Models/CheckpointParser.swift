/// Where a tensor name sits in an EfficientNetV2, read from the name alone.
struct ParsedName: Hashable {
    enum Position: Hashable {
        case stemConv, stemNorm, headConv, headNorm, classifier
        case block(stage: Int, index: Int)
    }

    var position: Position
    /// The block-internal layer as the scheme names it (`conv_pw`, `se.conv_reduce`, `2.fc1`, `expand_conv`).
    var sublayer: String
}

/// What a block's tensor names say about its kind, before any shape is looked at.
struct BlockFlags: Hashable {
    var kind: BlockKind
    var hasExpansion: Bool
    var hasProjection: Bool
    var hasSE: Bool
}

extension NamingScheme {
    /// Parses one normalized tensor name; nil when it is not an EfficientNetV2 name of this scheme.
    func parse(_ name: String) -> ParsedName? {
        switch self {
        case .timm: return parseTimm(name)
        case .torchvision: return parseTorchvision(name)
        case .keras: return parseKeras(name)
        case .efficientnetPytorch: return parseEfficientnetPytorch(name)
        }
    }

    /// `_blocks.N._layer.param`: blocks are numbered over the whole network; the position is reported as stage 0,
    /// index N, and `StructureInference` splits the blocks into stages from their shapes.
    private func parseEfficientnetPytorch(_ name: String) -> ParsedName? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 {
            switch parts[0] {
            case "_conv_stem": return ParsedName(position: .stemConv, sublayer: "")
            case "_bn0": return ParsedName(position: .stemNorm, sublayer: "")
            case "_conv_head": return ParsedName(position: .headConv, sublayer: "")
            case "_bn1": return ParsedName(position: .headNorm, sublayer: "")
            case "_fc": return ParsedName(position: .classifier, sublayer: "")
            default: return nil
            }
        }
        guard parts.count == 4, parts[0] == "_blocks", let n = Int(parts[1]), n >= 0, n < 10_000,
            parts[2].hasPrefix("_")
        else { return nil }
        return ParsedName(position: .block(stage: 0, index: n), sublayer: parts[2])
    }

    private func parseTimm(_ name: String) -> ParsedName? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2 else { return nil }
        if parts.count == 2 {
            switch parts[0] {
            case "conv_stem": return ParsedName(position: .stemConv, sublayer: "")
            case "bn1": return ParsedName(position: .stemNorm, sublayer: "")
            case "conv_head": return ParsedName(position: .headConv, sublayer: "")
            case "bn2": return ParsedName(position: .headNorm, sublayer: "")
            case "classifier": return ParsedName(position: .classifier, sublayer: "")
            default: return nil
            }
        }
        guard parts.count >= 5, parts[0] == "blocks", let s = Int(parts[1]), let i = Int(parts[2]),
            NamingScheme.plausible(s), NamingScheme.plausible(i)
        else { return nil }
        return ParsedName(
            position: .block(stage: s, index: i), sublayer: parts[3..<(parts.count - 1)].joined(separator: "."))
    }

    private func parseTorchvision(_ name: String) -> ParsedName? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 3, parts[0] == "classifier" { return ParsedName(position: .classifier, sublayer: "") }
        guard parts.count >= 4, parts[0] == "features", let f = Int(parts[1]), NamingScheme.plausible(f) else {
            return nil
        }
        if parts.count == 4 {
            // `features.0.{0,1}` is the stem, the highest `features.N.{0,1}` the head; blocks have `.block.`.
            switch (f, parts[2]) {
            case (0, "0"): return ParsedName(position: .stemConv, sublayer: "")
            case (0, "1"): return ParsedName(position: .stemNorm, sublayer: "")
            case (_, "0"): return ParsedName(position: .headConv, sublayer: "\(f)")
            case (_, "1"): return ParsedName(position: .headNorm, sublayer: "\(f)")
            default: return nil
            }
        }
        guard parts.count >= 7, f >= 1, let i = Int(parts[2]), NamingScheme.plausible(i), parts[3] == "block",
            Int(parts[4]) != nil
        else {
            return nil
        }
        return ParsedName(
            position: .block(stage: f - 1, index: i), sublayer: parts[4..<(parts.count - 1)].joined(separator: "."))
    }

    private func parseKeras(_ name: String) -> ParsedName? {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let layer = String(parts[0])
        switch layer {
        case "stem_conv": return ParsedName(position: .stemConv, sublayer: "")
        case "stem_bn": return ParsedName(position: .stemNorm, sublayer: "")
        case "top_conv": return ParsedName(position: .headConv, sublayer: "")
        case "top_bn": return ParsedName(position: .headNorm, sublayer: "")
        case "predictions": return ParsedName(position: .classifier, sublayer: "")
        default: break
        }
        // block{stage+1}{chr(97 + index)}_{sublayer}
        guard layer.hasPrefix("block") else { return nil }
        let rest = layer.unicodeScalars.dropFirst(5)
        let digits = rest.prefix { $0.properties.numericType != nil && $0.value < 128 }
        guard !digits.isEmpty, let stage = Int(String(String.UnicodeScalarView(digits))), stage >= 1,
            NamingScheme.plausible(stage)
        else { return nil }
        let afterDigits = rest.dropFirst(digits.count)
        guard let letter = afterDigits.first, letter.value >= 97, NamingScheme.plausible(Int(letter.value) - 97) else {
            return nil
        }
        let tail = afterDigits.dropFirst()
        guard tail.first == "_" else { return nil }
        let sub = String(String.UnicodeScalarView(tail.dropFirst()))
        guard !sub.isEmpty else { return nil }
        return ParsedName(position: .block(stage: stage - 1, index: Int(letter.value) - 97), sublayer: sub)
    }

    /// Stage and block indices a real network can have; anything else (negative, absurdly large) is not a block
    /// name and ends up in the "unexpected" list instead of sizing arrays.
    static func plausible(_ index: Int) -> Bool { index >= 0 && index < 1000 }

    /// Reads a block's kind and optional parts from the names of its layers (shapes only break ties).
    func classify(sublayers: Set<String>, depthwiseUnits: Set<Int>) -> BlockFlags {
        switch self {
        case .timm:
            let se = sublayers.contains { $0.hasPrefix("se.") }
            let inverted = sublayers.contains("bn3") || sublayers.contains("conv_pwl") && sublayers.contains("conv_pw")
            if inverted || sublayers.contains("conv_dw") {
                // InvertedResidual has conv_pw/…/conv_pwl/bn3; DepthwiseSeparableConv only conv_dw/bn1/conv_pw/bn2.
                let expands = inverted || sublayers.contains("conv_pwl")
                return BlockFlags(kind: .mbconv, hasExpansion: expands, hasProjection: true, hasSE: se)
            }
            let projects = sublayers.contains("conv_exp") || sublayers.contains("conv_pwl") || sublayers.contains("bn2")
            return BlockFlags(kind: .fusedMBConv, hasExpansion: true, hasProjection: projects, hasSE: se)
        case .torchvision:
            // `J.0`/`J.1` are conv/BN units, `J.fc1`/`J.fc2` the SE unit.
            var convUnits = Set<Int>()
            var seUnits = Set<Int>()
            for s in sublayers {
                let p = s.split(separator: ".")
                guard let j = p.first.flatMap({ Int($0) }) else { continue }
                if p.count > 1, p[1].hasPrefix("fc") { seUnits.insert(j) } else { convUnits.insert(j) }
            }
            let se = !seUnits.isEmpty
            let unitCount = convUnits.union(seUnits).count
            if se || !depthwiseUnits.isEmpty || convUnits.count >= 3 {
                return BlockFlags(
                    kind: .mbconv, hasExpansion: unitCount - (se ? 1 : 0) >= 3, hasProjection: true, hasSE: se)
            }
            return BlockFlags(kind: .fusedMBConv, hasExpansion: true, hasProjection: convUnits.count >= 2, hasSE: false)
        case .efficientnetPytorch:
            let se = sublayers.contains("_se_reduce") || sublayers.contains("_se_expand")
            let expand = sublayers.contains("_expand_conv") || sublayers.contains("_bn0")
            return BlockFlags(kind: .mbconv, hasExpansion: expand, hasProjection: true, hasSE: se)
        case .keras:
            let se = sublayers.contains("se_reduce") || sublayers.contains("se_expand")
            let expand = sublayers.contains("expand_conv") || sublayers.contains("expand_bn")
            if sublayers.contains("dwconv2") || sublayers.contains("dwconv") || sublayers.contains("bn") {
                return BlockFlags(kind: .mbconv, hasExpansion: expand, hasProjection: true, hasSE: se)
            }
            return BlockFlags(kind: .fusedMBConv, hasExpansion: true, hasProjection: expand, hasSE: se)
        }
    }
}
