import IR

extension ConvScan {
    /// Parses the conv sequence: stem, blocks, head (see `GraphRecognizer`).
    func parse() throws -> RecognizedModel {
        let list = convs
        func fail(_ c: ConvInfo, _ reason: String) -> GraphRecognitionError {
            .notEfficientNetV2(node: c.node.label, reason: reason)
        }
        guard list.count >= 2, let headIndex = list.lastIndex(where: { !$0.isSE }), headIndex > 0 else {
            throw GraphRecognitionError.notEfficientNetV2(
                node: graph.nodes.first?.label ?? graph.name, reason: "fewer than two convolutions")
        }
        let stem = list[0]
        let head = list[headIndex]
        // EfficientNet and V2 use SiLU throughout, EfficientNet-Lite ReLU6: the stem's activation is the network's.
        let act = stem.activation
        guard !stem.isSE, act == "silu" || act == "relu6" else {
            throw fail(stem, "the first conv is not a SiLU or ReLU6 stem")
        }
        guard head.kernel == 1, head.activation == act else {
            throw fail(head, "the last conv is not a 1×1 head with the stem's activation (\(act))")
        }

        var blocks = [BlockSpec]()
        var units = [[LayerRole: ConvInfo]]()
        var value = stem.output
        var p = 1
        var stage = -1
        var index = 0
        while p < headIndex {
            let first = list[p]
            guard !first.isSE else { throw fail(first, "squeeze-excitation conv outside a block") }
            guard first.source == value else { throw fail(first, "does not read the previous block's output") }
            var u = [LayerRole: ConvInfo]()
            let kind: BlockKind
            if first.isDepthwise {
                kind = .mbconv
                u[.depthwiseConv] = first
                p += 1
            } else if first.kernel == 1, p + 1 < headIndex, list[p + 1].isDepthwise {
                kind = .mbconv
                u[.expandConv] = first
                u[.depthwiseConv] = list[p + 1]
                p += 2
            } else {
                kind = .fusedMBConv
                u[.fusedConv] = first
                p += 1
            }
            for c in [u[.expandConv], u[.depthwiseConv], u[.fusedConv]].compactMap({ $0 }) where c.activation != act
            {
                throw fail(c, "expected \(act) after this conv, found \(c.activation)")
            }
            if p + 1 < headIndex, list[p].isSE, list[p + 1].isSE, list[p + 1].source == list[p].output {
                u[.seReduce] = list[p]
                u[.seExpand] = list[p + 1]
                p += 2
            }
            if p < headIndex, !list[p].isSE, !list[p].isDepthwise, list[p].kernel == 1, list[p].activation == "none" {
                u[.projectConv] = list[p]
                p += 1
            } else if kind == .mbconv {
                throw fail(u[.depthwiseConv]!, "MBConv without a 1×1 projection")
            }
            let body = u[.fusedConv] ?? u[.depthwiseConv]!
            let inChannels = first.inChannels
            let mid = body.outChannels
            let out = u[.projectConv]?.outChannels ?? mid
            var output = u[.projectConv]?.output ?? body.output
            if u[.projectConv] == nil, let se = u[.seExpand] {
                guard let excited = excitation(after: se) else { throw fail(se, "SE without its gating Mul") }
                output = excited
            }
            var block = BlockSpec(
                stage: 0, index: 0, kind: kind, inChannels: inChannels, midChannels: mid, outChannels: out,
                kernel: body.kernel, stride: body.stride, seChannels: u[.seReduce]?.outChannels,
                hasExpansion: kind == .fusedMBConv || u[.expandConv] != nil, hasProjection: u[.projectConv] != nil)
            let added = residual(of: output, input: value)
            if (added != nil) != block.hasResidual {
                throw fail(first, block.hasResidual ? "missing the residual Add" : "a residual Add where shapes change")
            }
            // A block that cannot add its input back (or changes kind, kernel size or expansion ratio) starts a
            // stage: at tiny widths EfficientNet's 3×3 stage 4 and 5×5 stage 5 can have equal widths, and so can
            // V2-B0's MBConv4 stage 4 and MBConv6 stage 5.
            if blocks.isEmpty || !block.hasResidual || blocks.last!.kind != kind || blocks.last!.kernel != block.kernel
                || Self.expansionRatio(blocks.last!) != Self.expansionRatio(block)
            {
                stage += 1
                index = 0
            }
            block.stage = stage
            block.index = index
            index += 1
            blocks.append(block)
            units.append(u)
            value = added ?? output
        }
        guard head.source == value else { throw fail(head, "does not read the last block's output") }

        let classifier = try self.classifier()
        if let c = classifier, c.weight.shape[1] != head.outChannels {
            throw GraphRecognitionError.notEfficientNetV2(
                node: "classifier", reason: "classifier input \(c.weight.shape[1]) ≠ head width \(head.outChannels)")
        }
        let structure = NetworkStructure(
            inputChannels: stem.inChannels, stemChannels: stem.outChannels, stemKernel: stem.kernel,
            stemStride: stem.stride, blocks: blocks, headChannels: head.outChannels,
            numClasses: classifier?.weight.shape[0])

        var table = [String: RecognizedModel.ConvUnit]()
        func unit(_ c: ConvInfo) -> RecognizedModel.ConvUnit { .init(weight: c.weight, bias: c.bias, norm: c.norm) }
        for layer in structure.layers {
            switch layer.role {
            case .stemConv: table[layer.name] = unit(stem)
            case .headConv: table[layer.name] = unit(head)
            case .fusedConv, .expandConv, .depthwiseConv, .seReduce, .seExpand, .projectConv:
                table[layer.name] = unit(units[layer.block!][layer.role]!)
            default: break
            }
        }
        let all = [stem, head] + units.flatMap { $0.values }
        let input = graph.inputs.first
        // Channels last: the input is transposed to NCHW first (effnet's Keras graphs), or it is an NHWC image
        // whose in-model preprocessing runs before that Transpose (Keras's own ONNX export, once optimized).
        let channelsLast =
            input.flatMap { i in
                (consumers[i.name] ?? []).first {
                    graph.nodes[$0].opType == "Transpose" && graph.nodes[$0].ints("perm") == [0, 3, 1, 2]
                }
            } != nil || input.flatMap { $0.shape.flatMap(Layout.init(imageInput:)) } == .nhwc
        let outputs = Set(graph.outputs.map(\.name))
        return RecognizedModel(
            structure: structure, activation: act, padding: all.contains(where: \.samePadded) ? .tfSame : .symmetric,
            batchNormEpsilon: all.first(where: { $0.epsilon != nil })?.epsilon,
            batchNormFolded: all.contains { $0.norm == nil && !$0.isSE }, channelsLast: channelsLast,
            softmaxOutput: graph.nodes.contains {
                $0.opType == "Softmax" && $0.outputs.contains(where: outputs.contains)
            },
            convs: table, classifier: classifier)
    }

    /// A block's expansion ratio, rounded to a whole number (the frameworks round expanded widths to multiples of 8).
    static func expansionRatio(_ b: BlockSpec) -> Int {
        b.inChannels > 0 ? Int((Double(b.midChannels) / Double(b.inChannels)).rounded()) : 0
    }
}
