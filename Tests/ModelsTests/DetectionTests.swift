import IR
import Models
import Testing

/// Detection against the frameworks' own state-dict layouts (`fixtures/layouts`, from
/// `tools/dump_checkpoint_layouts.py`): scheme, variant, per-stage depth and parameter counts must all agree with
/// what PyTorch / Keras reported for the model they built.
@Suite struct DetectionTests {
    @Test(arguments: LayoutFixture.all)
    func detectsSchemeVariantAndStructure(_ fixture: LayoutFixture) throws {
        let detected = try ArchitectureDetector.detect(layout: fixture.layout)
        #expect(detected.scheme.rawValue == fixture.scheme)
        #expect(detected.architecture.name == fixture.expectedArch)
        #expect(detected.isStandard == fixture.standard, "match: \(detected.match)")
        #expect(detected.structure.blocksPerStage == fixture.stageBlocks)
        #expect(detected.structure.numClasses == fixture.numClasses)
        // PyTorch: sum(p.numel() for p in model.parameters()); Keras: trainable weights.
        #expect(detected.structure.parameterCount == fixture.parameters)
        #expect(detected.structure.bufferCount == fixture.buffers)
    }

    /// Every table entry, scaled by its own multipliers, is exactly the structure its framework builds.
    @Test(arguments: LayoutFixture.all.filter(\.standard))
    func tableReproducesFrameworkStructure(_ fixture: LayoutFixture) throws {
        // timm and torchvision both have an `efficientnet_b0`: take the fixture framework's.
        let arch = try #require(
            Architecture.all.first { $0.name == fixture.expectedArch && $0.scheme.rawValue == fixture.scheme })
        let structure = arch.structure(numClasses: fixture.numClasses)
        let expected = arch.scheme.layout(of: structure).filter { !$0.isCounter }.map { "\($0.name) \($0.shape)" }
        let actual = fixture.tensors.filter {
            !$0.name.hasSuffix("num_batches_tracked") && !$0.name.hasPrefix("normalization")
        }.map {
            "\($0.name) \($0.shape)"
        }
        #expect(expected == actual)
    }

    @Test func reducedModelsReportTheirMultipliers() throws {
        let s = try ArchitectureDetector.detect(layout: LayoutFixture.named("tf_efficientnetv2_s-w0.5-d0.34").layout)
        #expect(s.match == .scaled(width: 0.5, depth: 0.4))  // the coarsest depth giving the same repeats as 0.34
        #expect(s.alternatives.contains("efficientnetv2_s"))
        let keras = try ArchitectureDetector.detect(layout: LayoutFixture.named("EfficientNetV2B0-w0.5-d0.5").layout)
        #expect(keras.match == .scaled(width: 0.5, depth: 0.5))
    }

    /// EfficientNet (V1) and Lite: multipliers read back from reduced timm and torchvision models (Lite keeps its
    /// first and last stage depths and its stem and head widths), the timm tf_/non-tf_ ambiguity reported, and
    /// torchvision's `efficientnet_b0` told apart from timm's by the checkpoint's names.
    @Test func efficientNetFamilyMultipliersAndAlternatives() throws {
        let b0 = try ArchitectureDetector.detect(layout: LayoutFixture.named("efficientnet_b0-w0.25-d0.5").layout)
        #expect(b0.architecture.name == "tf_efficientnet_b0")
        #expect(b0.match == .scaled(width: 0.25, depth: 0.4))  // the coarsest depth giving 0.5's repeats
        #expect(b0.alternatives.contains("efficientnet_b0"))
        let lite = try ArchitectureDetector.detect(layout: LayoutFixture.named("tf_efficientnet_lite0-w0.5-d0.5").layout)
        #expect(lite.architecture.family == .efficientnetLite)
        #expect(lite.match == .scaled(width: 0.5, depth: 0.4))
        #expect(lite.structure.stemChannels == 32 && lite.structure.headChannels == 1280)
        let tv = LayoutFixture.all.first { $0.id == "efficientnet_b0" && $0.scheme == "torchvision" }!
        let detected = try ArchitectureDetector.detect(layout: tv.layout, architecture: Architecture.named("efficientnet_b0"))
        #expect(detected.scheme == .torchvision && detected.architecture.scheme == .torchvision)
        #expect(detected.architecture.batchNormEpsilon == 1e-5)
    }

    /// The Lite weight packages number their blocks over the whole network (`_blocks.0` … `_blocks.20`): the stage
    /// split comes from the table whose depths add up and agree with the kernels and widths.
    @Test func flatBlockNumbersAreSplitIntoStages() throws {
        let lite2 = try ArchitectureDetector.detect(layout: LayoutFixture.named("efficientnet-lite2").layout)
        #expect(lite2.architecture.name == "efficientnet-lite2")
        #expect(lite2.structure.blocks.map(\.kernel) == [3, 3, 3, 3, 5, 5, 5, 3, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 3])
        #expect(lite2.structure.blocks.filter { $0.index == 0 }.map(\.stride) == [1, 2, 2, 2, 1, 2, 1])
        #expect(lite2.architecture.activation == "relu6" && lite2.structure.blocks.allSatisfy { $0.seChannels == nil })
    }

    /// timm `tf_efficientnetv2_s` and `efficientnetv2_s` have identical state dicts; `tf_` wins, the other is offered.
    @Test func ambiguousTimmVariantListsAlternative() throws {
        let detected = try ArchitectureDetector.detect(layout: LayoutFixture.named("tf_efficientnetv2_s").layout)
        #expect(detected.architecture.name == "tf_efficientnetv2_s")
        #expect(detected.alternatives == ["efficientnetv2_s"])
        let forced = try ArchitectureDetector.detect(
            layout: LayoutFixture.named("tf_efficientnetv2_s").layout,
            architecture: Architecture.named("efficientnetv2_s"))
        #expect(forced.architecture.padding == .symmetric)
        #expect(forced.architecture.batchNormEpsilon == 1e-5)
        #expect(forced.isStandard)
    }

    @Test func architectureOfAnotherSchemeIsRejected() throws {
        let layout = LayoutFixture.named("efficientnet_v2_s").layout
        #expect(
            throws: CheckpointError.schemeMismatch(
                architecture: "tf_efficientnetv2_s", expected: .timm, found: .torchvision)
        ) {
            try ArchitectureDetector.detect(layout: layout, architecture: Architecture.named("tf_efficientnetv2_s"))
        }
        #expect(throws: CheckpointError.stageCountMismatch(architecture: "efficientnet_v2_m", expected: 7, found: 6)) {
            try ArchitectureDetector.detect(layout: layout, architecture: Architecture.named("efficientnet_v2_m"))
        }
    }

    @Test func wrapperPrefixesAndVariableSuffixesAreDropped() throws {
        let fixture = LayoutFixture.named("tf_efficientnetv2_b0-w0.25-d0.5")
        let wrapped = Checkpoint(
            tensors: fixture.tensors.map {
                ("module." + $0.name, Tensor.zeros(LayoutFixture.dtype($0.dtype), shape: $0.shape))
            })
        #expect(try ArchitectureDetector.detect(wrapped).architecture.name == "tf_efficientnetv2_b0")
        let keras = LayoutFixture.named("EfficientNetV2B0-w0.5-d0.5")
        let h5 = Checkpoint(
            tensors: keras.tensors.map {
                ("efficientnetv2-b0/" + $0.name + ":0", Tensor.zeros(.float32, shape: $0.shape))
            })
        #expect(h5.names.first == "stem_conv/kernel")
        #expect(try ArchitectureDetector.detect(h5).architecture.name == "EfficientNetV2B0")
    }

    @Test func foreignCheckpointIsNamedInTheError() {
        let layout = [(name: "encoder.layer.0.weight", shape: [4, 4]), (name: "encoder.layer.0.bias", shape: [4])]
        #expect(throws: CheckpointError.unknownScheme(sampleNames: ["encoder.layer.0.weight", "encoder.layer.0.bias"]))
        {
            try ArchitectureDetector.detect(layout: layout)
        }
    }

    @Test func integerWeightsAreRejected() {
        let fixture = LayoutFixture.named("tf_efficientnetv2_b0-w0.25-d0.5")
        let tensors = fixture.tensors.map { t in
            (t.name, Tensor.zeros(t.name == "conv_stem.weight" ? .int8 : LayoutFixture.dtype(t.dtype), shape: t.shape))
        }
        #expect(
            throws: CheckpointError.invalidTensor(
                name: "conv_stem.weight", problem: "int8 weights; expected a floating-point type")
        ) {
            try ArchitectureDetector.detect(Checkpoint(tensors: tensors))
        }
    }
}
