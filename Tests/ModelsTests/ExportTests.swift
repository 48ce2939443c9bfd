import IR
import Models
import Testing

/// Export: graph → framework state dict. The dumped layouts are PyTorch's / Keras's own state dicts, so an export
/// whose names and shapes equal them loads with `strict=True`.
@Suite struct ExportTests {
    static let reduced = LayoutFixture.all.filter { !$0.standard }

    func nameShapes(_ tensors: [(String, Tensor)]) -> [String] { tensors.map { "\($0.0) \($0.1.shape)" } }
    /// The fixture's weights (Keras V1's `normalization[_N]/{mean,variance,count}` are preprocessing, not exported).
    func nameShapes(_ fixture: LayoutFixture) -> [String] {
        fixture.tensors.filter { !$0.name.hasPrefix("normalization") }.map { "\($0.name) \($0.shape)" }
    }

    /// checkpoint → graph → export under the same scheme gives back every name, shape and value.
    @Test(arguments: reduced)
    func sameSchemeRoundTripIsExact(_ fixture: LayoutFixture) throws {
        let checkpoint = fixture.patternCheckpoint()
        let (graph, detected) = try GraphBuilder.build(checkpoint)
        let exported = try CheckpointExporter.export(graph, naming: detected.scheme)
        #expect(nameShapes(exported.tensors) == nameShapes(fixture))
        for (name, tensor) in exported.tensors where tensor.dtype == .float32 {
            #expect(tensor == checkpoint[name], "\(name)")
        }
        #expect(exported.notes.allSatisfy { !$0.contains("folded") })
    }

    /// Every scheme → every other scheme → back: values survive layout conversion; the intermediate detects as the
    /// same structure. timm's rw blocks (Fused-MBConv with projection but no expansion) exist only in timm,
    /// Fused-MBConv not in efficientnet-pytorch, EfficientNet-Lite (no SE) not in Keras.
    @Test(arguments: reduced)
    func crossSchemeRoundTrip(_ fixture: LayoutFixture) throws {
        let checkpoint = fixture.patternCheckpoint()
        let source = try ArchitectureDetector.detect(checkpoint)
        for target in NamingScheme.allCases where target != source.scheme {
            if fixture.model.contains("_rw_"), target != .timm {
                #expect(throws: CheckpointError.self) { try CheckpointExporter.rename(checkpoint, to: target) }
                continue
            }
            // efficientnet-pytorch has no Fused-MBConv (EfficientNetV2).
            let v2 = source.structure.blocks.contains { $0.kind == .fusedMBConv }
            // torchvision's and Keras's EfficientNet (V1) MBConv always has SE, which EfficientNet-Lite lacks.
            let lite = source.structure.blocks.allSatisfy { $0.seChannels == nil }
            if (target == .efficientnetPytorch && v2) || ((target == .keras || target == .torchvision) && lite) {
                #expect(throws: CheckpointError.self) { try CheckpointExporter.rename(checkpoint, to: target) }
                continue
            }
            let there = try CheckpointExporter.rename(checkpoint, to: target)
            let detected = try ArchitectureDetector.detect(Checkpoint(tensors: there.tensors))
            #expect(detected.scheme == target)
            #expect(detected.structure == source.structure)
            let back = try CheckpointExporter.rename(Checkpoint(tensors: there.tensors), to: source.scheme)
            #expect(nameShapes(back.tensors) == nameShapes(fixture))
            for (name, tensor) in back.tensors where tensor.dtype == .float32 {
                #expect(tensor == checkpoint[name], "\(target): \(name)")
            }
        }
    }

    /// timm `tf_efficientnetv2_s`, torchvision `efficientnet_v2_s` and Keras `EfficientNetV2S` share one structure:
    /// renaming one gives exactly the others' state dicts.
    @Test func renamedVariantsMatchTheOtherFrameworksStateDicts() throws {
        let timm = LayoutFixture.named("tf_efficientnetv2_s")
        let checkpoint = timm.zeroCheckpoint()
        let torchvision = try CheckpointExporter.rename(checkpoint, to: .torchvision)
        #expect(nameShapes(torchvision.tensors) == nameShapes(LayoutFixture.named("efficientnet_v2_s")))
        #expect(torchvision.notes.contains { $0.contains("torchvision pads symmetrically") })
        let keras = try CheckpointExporter.rename(checkpoint, to: .keras)
        #expect(nameShapes(keras.tensors) == nameShapes(LayoutFixture.named("EfficientNetV2S")))
        let small = try CheckpointExporter.rename(
            LayoutFixture.named("tf_efficientnetv2_s-w0.5-d0.34").zeroCheckpoint(), to: .keras)
        #expect(nameShapes(small.tensors) == nameShapes(LayoutFixture.named("EfficientNetV2S-w0.5-d0.34")))
    }

    /// A BN-folded graph exports identity BatchNorms: γ = 1, β = folded bias, μ = 0, and σ² such that σ² + ε is
    /// exactly 1 in float32, so the framework's scale γ/√(σ²+ε) is exactly 1.
    @Test(arguments: [
        (Float(1e-3), NamingScheme.torchvision), (Float(1e-5), NamingScheme.timm), (Float(1e-3), NamingScheme.keras),
    ])
    func foldedGraphExportsIdentityBatchNorm(_ epsilon: Float, _ scheme: NamingScheme) throws {
        let fixture = LayoutFixture.named("tf_efficientnetv2_b0-w0.25-d0.5")
        let (graph, _) = try GraphBuilder.build(fixture.patternCheckpoint())
        let folded = GraphSurgery.foldBatchNorm(graph)
        #expect(!folded.nodes.contains { $0.opType == "BatchNormalization" })
        let exported = try CheckpointExporter.export(folded, naming: scheme, epsilon: epsilon)
        #expect(exported.notes.contains { $0.contains("identity BatchNorm") })
        let back = try ArchitectureDetector.detect(Checkpoint(tensors: exported.tensors))
        let weights = try ModelWeights(Checkpoint(tensors: exported.tensors), detection: back)
        let variance = try #require(weights["blocks.3.0.bn2.running_var"]).floats
        #expect(variance.allSatisfy { $0 + epsilon == 1 })
        #expect(try #require(weights["blocks.3.0.bn2.weight"]).floats.allSatisfy { $0 == 1 })
        #expect(try #require(weights["blocks.3.0.bn2.running_mean"]).floats.allSatisfy { $0 == 0 })
        #expect(weights["blocks.3.0.bn2.bias"] == folded.initializers["blocks.3.0.conv_dw.bias"])
        #expect(weights["blocks.3.0.conv_dw.weight"] == folded.initializers["blocks.3.0.conv_dw.weight"])
    }

    @Test func identityVarianceIsExactForCommonEpsilons() {
        for eps: Float in [1e-3, 1e-5, 1.001e-5, 1e-6, 0.1] {
            let v = RecognizedModel.identityVariance(eps)
            #expect(v + eps == 1, "ε = \(eps)")
            #expect(Float(1) / (v + eps).squareRoot() == 1)
        }
    }

    /// Shapes PyTorch's exporter produces: weights behind Identity nodes, SE means as ReduceMean, Gemm as
    /// MatMul + Add, each block wrapped in a fused op with a `body` (as the optimizer does).
    @Test func recognizesExporterAndOptimizerShapes() throws {
        let fixture = LayoutFixture.named("efficientnet_v2_s-w0.5-d0.5")
        let checkpoint = fixture.patternCheckpoint()
        let (graph, detected) = try GraphBuilder.build(checkpoint)
        var g = GraphSurgery.gemmAsMatMulAdd(graph)
        g = GraphSurgery.shareWeightsThroughIdentity(g)
        g = GraphSurgery.seMeansAsReduceMean(g)
        g = GraphSurgery.wrapBlocksInFusedOps(g)
        try g.validate()
        let recognized = try GraphRecognizer.recognize(g)
        #expect(recognized.structure == detected.structure)
        let exported = try CheckpointExporter.export(g, naming: .torchvision)
        #expect(nameShapes(exported.tensors) == nameShapes(fixture))
        for (name, tensor) in exported.tensors where tensor.dtype == .float32 {
            #expect(tensor == checkpoint[name], "\(name)")
        }
    }

    @Test func kerasGraphRecognizedWithLayoutAndSoftmax() throws {
        let (graph, _) = try GraphBuilder.build(LayoutFixture.named("EfficientNetV2B0-w0.5-d0.5").zeroCheckpoint())
        let recognized = try GraphRecognizer.recognize(graph)
        #expect(recognized.channelsLast && recognized.softmaxOutput)
        #expect(recognized.padding == .tfSame)
        #expect(recognized.batchNormEpsilon == 1e-3)
        #expect(!recognized.batchNormFolded)
    }

    /// Graphs carry no tensor names: the variant comes from structure, padding, layout and (unfolded) ε.
    @Test(arguments: [
        ("tf_efficientnetv2_s-w0.5-d0.34", "tf_efficientnetv2_s"), ("efficientnet_v2_s-w0.5-d0.5", "efficientnet_v2_s"),
        ("EfficientNetV2B0-w0.5-d0.5", "EfficientNetV2B0"), ("efficientnetv2_rw_s-w0.5-d0.25", "efficientnetv2_rw_s"),
    ])
    func graphsAreIdentified(_ id: String, _ expected: String) throws {
        let (graph, detected) = try GraphBuilder.build(LayoutFixture.named(id).zeroCheckpoint())
        let identified = try #require(ArchitectureDetector.identify(try GraphRecognizer.recognize(graph)))
        #expect(identified.architecture.name == expected)
        #expect(identified.match == detected.match)
        let folded = try #require(
            ArchitectureDetector.identify(try GraphRecognizer.recognize(GraphSurgery.foldBatchNorm(graph))))
        #expect(folded.structure == detected.structure)
    }

    @Test func rwBlocksAreNotRepresentableOutsideTimm() throws {
        let checkpoint = LayoutFixture.named("efficientnetv2_rw_s-w0.5-d0.25").zeroCheckpoint()
        #expect(
            throws: CheckpointError.notRepresentable(
                scheme: .keras, reason: "block 0.0: a Fused-MBConv with a projection but no expansion (16 channels)")
        ) {
            try CheckpointExporter.rename(checkpoint, to: .keras)
        }
    }

    @Test func nonEfficientNetGraphIsRejectedWithNodeName() throws {
        let w = Tensor.zeros(.float32, shape: [8, 3, 3, 3])
        let graph = Graph(
            nodes: [Node(name: "only_conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"])],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [1, 3, 8, 8])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)], initializers: ["w": w])
        #expect(
            throws: GraphRecognitionError.notEfficientNetV2(node: "only_conv", reason: "fewer than two convolutions")
        ) {
            try GraphRecognizer.recognize(graph)
        }
    }
}
