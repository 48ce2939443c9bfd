import IR
import Models
import Testing

/// Graphs built from zero-filled checkpoints with the frameworks' exact names and shapes: valid SSA, only supported
/// ops, the framework's block count per stage and parameter count.
@Suite struct GraphBuilderTests {
    /// Reduced models of every scheme plus full-size B0 and S (full M/L/XL would allocate up to 0.8 GB of zeros;
    /// their detection is covered by `DetectionTests`).
    static let buildable = LayoutFixture.all.filter { $0.elementCount < 30_000_000 }

    @Test(arguments: buildable)
    func buildsValidGraphWithFrameworkCounts(_ fixture: LayoutFixture) throws {
        let (graph, detected) = try GraphBuilder.build(fixture.zeroCheckpoint())
        try graph.validate()
        try OpSupport.check(graph)
        #expect(blocksPerStage(graph) == fixture.stageBlocks)
        let trainable = graph.initializers.filter { name, _ in
            !name.hasSuffix("running_mean") && !name.hasSuffix("running_var") && !name.hasPrefix("preprocess.")
                && !name.hasPrefix("relu6.")  // Clip bounds of EfficientNet-Lite's ReLU6
        }
        #expect(trainable.values.reduce(0) { $0 + $1.count } == fixture.parameters)
        let norms = graph.nodes.filter { $0.opType == "BatchNormalization" }
        #expect(norms.allSatisfy { $0.float("epsilon") == detected.architecture.batchNormEpsilon })
        #expect(graph.outputs.first?.shape == [.symbol("N"), .known(fixture.numClasses)])
    }

    @Test func efficientNetV2SHasFortyBlocks() throws {
        let (graph, detected) = try GraphBuilder.build(LayoutFixture.named("tf_efficientnetv2_s").zeroCheckpoint())
        #expect(blocksPerStage(graph) == [2, 4, 4, 6, 9, 15])
        #expect(detected.structure.blocks.count == 40)
        #expect(graph.inputs.first?.shape == [.symbol("N"), 3, 384, 384])
        // Residual adds: every block except the first of stages 1…5 and the first of stage 0 is 24 → 24, so 40 − 5.
        #expect(graph.nodes.filter { $0.opType == "Add" }.count == 35)
        #expect(graph.nodes.filter { $0.opType == "GlobalAveragePool" }.count == 30 + 1)  // SE in stages 3…5, head
    }

    /// TF SAME: stride-2 convs carry `auto_pad = SAME_UPPER` (valid at any size) or, on request, the asymmetric
    /// pads for the declared size; stride-1 convs get their size-independent symmetric pads either way.
    @Test func tfSamePaddingFollowsTheRule() throws {
        let checkpoint = LayoutFixture.named("tf_efficientnetv2_b0-w0.25-d0.5").zeroCheckpoint()
        let (auto, _) = try GraphBuilder.build(checkpoint)
        let stem = try #require(auto.nodes.first { $0.name == "conv_stem" })
        #expect(stem.string("auto_pad") == "SAME_UPPER")
        #expect(stem.ints("pads") == nil)
        let dw = try #require(auto.nodes.first { $0.name == "blocks.4.0.conv_dw" })
        #expect(dw.ints("pads") == [1, 1, 1, 1])
        let (explicit, _) = try GraphBuilder.build(
            checkpoint, options: BuildOptions(inputSize: 224, samePadding: .explicit))
        // 224 → 112: total padding (112 − 1)·2 + 3 − 224 = 1, all of it after (SAME_UPPER).
        #expect(explicit.nodes.first { $0.name == "conv_stem" }?.ints("pads") == [0, 0, 1, 1])
        let (odd, _) = try GraphBuilder.build(checkpoint, options: BuildOptions(inputSize: 225, samePadding: .explicit))
        // 225 → 113: (113 − 1)·2 + 3 − 225 = 2, split 1 / 1.
        #expect(odd.nodes.first { $0.name == "conv_stem" }?.ints("pads") == [1, 1, 1, 1])
    }

    @Test func symmetricPaddingForTorchvision() throws {
        let (graph, detected) = try GraphBuilder.build(
            LayoutFixture.named("efficientnet_v2_s-w0.5-d0.5").zeroCheckpoint())
        #expect(detected.architecture.padding == .symmetric)
        let convs = graph.nodes.filter { $0.opType == "Conv" }
        #expect(convs.allSatisfy { $0.string("auto_pad") == nil })
        #expect(convs.first { $0.name == "conv_stem" }?.ints("pads") == [1, 1, 1, 1])
        #expect(convs.first { $0.name == "conv_head" }?.ints("pads") == [0, 0, 0, 0])
    }

    /// Keras: NHWC 0…255 input, Transpose, in-model preprocessing, softmax output.
    @Test func kerasGraphCarriesPreprocessingAndSoftmax() throws {
        let (b0, _) = try GraphBuilder.build(LayoutFixture.named("EfficientNetV2B0-w0.5-d0.5").zeroCheckpoint())
        #expect(b0.inputs.first?.shape == [.symbol("N"), 224, 224, 3])
        #expect(Array(b0.nodes.prefix(4).map(\.opType)) == ["Transpose", "Mul", "Sub", "Div"])
        #expect(
            b0.initializers["preprocess.std"]?.floats == [
                Float(0.229 * 0.229).squareRoot(),
                Float(0.224 * 0.224).squareRoot(),
                Float(0.225 * 0.225).squareRoot(),
            ])
        #expect(b0.nodes.last?.opType == "Softmax")
        let (s, _) = try GraphBuilder.build(LayoutFixture.named("EfficientNetV2S-w0.5-d0.34").zeroCheckpoint())
        #expect(Array(s.nodes.prefix(3).map(\.opType)) == ["Transpose", "Mul", "Add"])
        #expect(s.initializers["preprocess.scale"]?.floats == [Float(1.0 / 128.0)])
        #expect(s.initializers["preprocess.offset"]?.floats == [-1])
    }

    /// Keras HWIO kernels arrive in ONNX OIHW, depthwise HWC1 as `[C, 1, k, k]`, dense `[in, out]` as `[out, in]`.
    @Test func kerasLayoutsAreConverted() throws {
        let fixture = LayoutFixture.named("EfficientNetV2B0-w0.5-d0.5")
        let checkpoint = fixture.patternCheckpoint()
        let (graph, _) = try GraphBuilder.build(checkpoint)
        let hwio = try #require(checkpoint["block4a_expand_conv/kernel"])
        let oihw = try #require(graph.initializers["blocks.3.0.conv_pw.weight"])
        #expect(oihw.shape == [hwio.shape[3], hwio.shape[2], 1, 1])
        // oihw[o, i] == hwio[0, 0, i, o]
        let (o, i) = (5, 3)
        #expect(oihw.floats[o * hwio.shape[2] + i] == hwio.floats[i * hwio.shape[3] + o])
        let dwKeras = try #require(checkpoint["block4a_dwconv2/kernel"])  // [3, 3, C, 1]
        let dw = try #require(graph.initializers["blocks.3.0.conv_dw.weight"])  // [C, 1, 3, 3]
        let c = dwKeras.shape[2]
        #expect(dw.shape == [c, 1, 3, 3])
        // dw[ch, 0, y, x] == keras[y, x, ch, 0]
        let (ch, y, x) = (7, 2, 1)
        #expect(dw.floats[ch * 9 + y * 3 + x] == dwKeras.floats[(y * 3 + x) * c + ch])
        let dense = try #require(checkpoint["predictions/kernel"])
        #expect(graph.initializers["classifier.weight"] == dense.permuted([1, 0]))
    }

    @Test func headlessCheckpointEndsAtPooledFeatures() throws {
        let fixture = LayoutFixture.named("tf_efficientnetv2_b0-w0.25-d0.5")
        let tensors = fixture.zeroCheckpoint().entries.filter { !$0.0.hasPrefix("classifier.") }
        let (graph, detected) = try GraphBuilder.build(Checkpoint(tensors: tensors))
        #expect(detected.structure.numClasses == nil)
        #expect(graph.nodes.last?.opType == "Flatten")
        #expect(graph.outputs.first?.shape == [.symbol("N"), .known(detected.structure.headChannels)])
    }

    /// Half-precision checkpoints are widened to float32 (exactly: every float16 is a float32).
    @Test func halfPrecisionWeightsAreWidened() throws {
        let fixture = LayoutFixture.named("efficientnet_v2_s-w0.5-d0.5")
        let half = Checkpoint(
            tensors: fixture.patternCheckpoint().entries.map { name, t in
                (name, t.dtype == .float32 ? t.converted(to: .float16) : t)
            })
        let (graph, _) = try GraphBuilder.build(half)
        #expect(graph.initializers.values.allSatisfy { $0.dtype == .float32 })
        #expect(
            graph.initializers["blocks.3.0.conv_dw.weight"]
                == half["features.4.0.block.1.0.weight"]?.converted(to: .float32))
    }

    @Test func modelCarriesOpsetAndMetadata() throws {
        let (graph, detected) = try GraphBuilder.build(
            LayoutFixture.named("tf_efficientnetv2_b0-w0.25-d0.5").zeroCheckpoint())
        let model = GraphBuilder.model(graph, detected: detected)
        #expect(model.opset == 17)
        #expect(model.metadata["effnet.architecture"] == "tf_efficientnetv2_b0")
        #expect(model.metadata["effnet.input_size"] == "224")
    }

    /// `(stage, index)` pairs seen in node names `blocks.S.I.…`, counted per stage.
    func blocksPerStage(_ graph: Graph) -> [Int] {
        var seen = Set<[Int]>()
        for node in graph.nodes where node.name.hasPrefix("blocks.") {
            let parts = node.name.split(separator: ".")
            seen.insert([Int(parts[1])!, Int(parts[2])!])
        }
        let stages = (seen.map { $0[0] }.max() ?? -1) + 1
        return (0..<stages).map { s in seen.filter { $0[0] == s }.count }
    }
}
