import Formats
import Foundation
import IR
import Optimizer
import Runtime
import Testing

/// Issue 4's full-size claims, run on request when `tools/make_bench_models.py` has written `bench-models/` (it is
/// not committed, so CI skips these; `tools/bench_peers.py` makes the folder). See `fullSizeModelsAvailable`.
@Suite(.enabled(if: fullSizeModelsAvailable, "set EFFNET_FULL_SIZE=1 (release build) after tools/make_bench_models.py"))
struct FullSizeTests {
    static let folder = ModelFixtures.root.appendingPathComponent("bench-models")

    static var exports: [String] {
        ["timm_tf_efficientnetv2_s", "torchvision_efficientnet_v2_s"].flatMap { id in
            ["torchscript.onnx", "torchscript_nofold.onnx", "dynamo.onnx"].map { "\(id)/\($0)" }
        }.filter { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
    }

    /// EfficientNetV2-S, Table 4 of the paper: (operator, stride, channels, layers) per stage.
    static let table4: [(String, Int, Int, Int)] = [
        ("Conv3x3", 2, 24, 1), ("Fused-MBConv1, k3x3", 1, 24, 2), ("Fused-MBConv4, k3x3", 2, 48, 4),
        ("Fused-MBConv4, k3x3", 2, 64, 4), ("MBConv4, k3x3, SE0.25", 2, 128, 6), ("MBConv6, k3x3, SE0.25", 1, 160, 9),
        ("MBConv6, k3x3, SE0.25", 2, 256, 15), ("Conv1x1 & Pooling & FC", 1, 1280, 1),
    ]

    static func load(_ relative: String) throws -> (Model, [String: Tensor]) {
        let base = folder.appendingPathComponent(relative).path
        var model = try ONNXReader.read(contentsOf: base)
        let io = try NPZ.read(
            contentsOf: folder.appendingPathComponent(relative.split(separator: "/")[0] + "/io.npz").path)
        let input = io.first { $0.name == "input" }!.tensor
        let feeds = [model.graph.inputs[0].name: input]
        model.graph.bindSpatialDims(feeds)
        return (model, feeds)
    }

    @Test(arguments: exports)
    func fusesIntoTheStageTableOfThePaper(_ file: String) throws {
        let (model, _) = try Self.load(file)
        var graph = model.graph
        _ = try Pipeline.standard.run(&graph, context: PassContext(opset: model.opset))
        let forbidden: Set = [
            "BatchNormalization", "Identity", "Dropout", "Shape", "Gather", "Pad", "Constant", "Conv",
        ]
        #expect(graph.nodes.allSatisfy { !($0.domain.isEmpty && forbidden.contains($0.opType)) })
        let summary = NetworkSummary(graph: graph)
        #expect(summary.blocks.count == 40)
        let rows = summary.stages.map { ($0.operator, $0.stride, $0.channels, $0.layers) }
        #expect(rows.count == Self.table4.count)
        for (row, expected) in zip(rows, Self.table4) { #expect(row == expected, "\(file): \(row) ≠ \(expected)") }
    }

    /// Every pass keeps the interpreter's logits within 1e-5 (absolute and relative), as on the fixtures.
    @Test(arguments: exports)
    func everyPassPreservesOutputs(_ file: String) throws {
        let (model, feeds) = try Self.load(file)
        var graph = model.graph
        let name = graph.outputs[0].name
        let original = try ReferenceInterpreter(graph: graph, opset: model.opset).run(feeds)[name]!
        for pass in Pipeline.standard.passes {
            _ = try pass.run(&graph, context: PassContext(opset: model.opset))
            let now = try ReferenceInterpreter(graph: graph, opset: model.opset).run(feeds)[name]!
            #expect(
                ModelFixtures.allClose(now, original, atol: 1e-5, rtol: 1e-5),
                "\(file): after \(pass.name), max |Δ| = \(ModelFixtures.maxDifference(now, original))")
        }
    }
}

/// Opt-in (`EFFNET_FULL_SIZE=1`) and only when `bench-models/` exists: the reference interpreter needs an
/// optimized build for full-size models (about 3 minutes with `-c release`, hours in a debug build):
/// `EFFNET_FULL_SIZE=1 swift test -c release -Xswiftc -enable-testing --filter FullSizeTests`.
let fullSizeModelsAvailable =
    ProcessInfo.processInfo.environment["EFFNET_FULL_SIZE"] == "1"
    && FileManager.default.fileExists(
        atPath: ModelFixtures.root.appendingPathComponent("bench-models/timm_tf_efficientnetv2_s").path)
