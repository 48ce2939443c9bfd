import Formats
import Foundation
import IR
import Optimizer
import Runtime
import Testing

/// The same reduced Keras B0 as four exporters write it (`fixtures/exporters/`, made by
/// `tools/make_exporter_fixtures.py`): Keras 3's own ONNX export (NHWC, Casts, Transposes, arithmetic BatchNorm,
/// Shape/Gather/Reshape SE), onnxslim's output, and onnxruntime's basic and extended optimized files. Each must
/// optimize to the canonical fused network (stage depths 1,2,2,2,2,1: 5 Fused-MBConv + 5 MBConv, no Cast, one
/// Transpose: the NHWC input's) and still compute what its framework computed.
@Suite struct ExporterFixtureTests {
    static let folder = ModelFixtures.root.appendingPathComponent("fixtures/exporters")
    static let exporters = ["keras_export", "onnxslim", "ort_basic", "ort_extended"]

    static func load(_ id: String) throws -> (model: Model, feeds: [String: Tensor], expected: Tensor) {
        var model = try ONNXReader.read(contentsOf: folder.appendingPathComponent("\(id)/model.onnx").path)
        let io = try NPZ.read(contentsOf: folder.appendingPathComponent("\(id)/io.npz").path)
        let input = io.first { $0.name == "input" }!.tensor
        let feeds = [model.graph.inputs[0].name: input]
        model.graph.bindSpatialDims(feeds)
        return (model, feeds, io.first { $0.name == "output" }!.tensor)
    }

    /// Every pass keeps the interpreter's output within 1e-5 of the graph as read (float32 rounding of folded
    /// weights), and the graph as read matches the framework's softmax probabilities to 0.01 % (+1e-6), the Keras
    /// tolerance of the README.
    @Test(arguments: exporters)
    func everyPassPreservesOutputs(_ id: String) throws {
        let (model, feeds, expected) = try Self.load(id)
        var graph = model.graph
        let output = graph.outputs[0].name
        let original = try ReferenceInterpreter(graph: graph, opset: model.opset).run(feeds)[output]!
        #expect(
            ModelFixtures.allClose(original, expected, atol: 1e-6, rtol: 1e-4),
            "\(id): as read, max |Δ| = \(ModelFixtures.maxDifference(original, expected))")
        for pass in Pipeline.standard.passes {
            _ = try pass.run(&graph, context: PassContext(opset: model.opset))
            try graph.validate()
            let now = try ReferenceInterpreter(graph: graph, opset: model.opset).run(feeds)[output]!
            #expect(
                ModelFixtures.allClose(now, original, atol: 1e-5, rtol: 1e-5),
                "\(id): after \(pass.name), max |Δ| = \(ModelFixtures.maxDifference(now, original))")
        }
        let native = try InferenceSession(graph: graph, opset: model.opset, threads: 1).run(feeds)[output]!
        #expect(
            ModelFixtures.allClose(native, expected, atol: 1e-6, rtol: 1e-4),
            "\(id): native runtime, max |Δ| = \(ModelFixtures.maxDifference(native, expected))")
    }

    @Test(arguments: exporters)
    func optimizesToTheCanonicalFusedNetwork(_ id: String) throws {
        let (model, _, _) = try Self.load(id)
        var graph = model.graph
        _ = try Pipeline.standard.run(&graph, context: PassContext(opset: model.opset))
        let summary = NetworkSummary(graph: graph)
        let perStage = Dictionary(grouping: summary.blocks, by: \.stage).mapValues(\.count)
        #expect((1...6).map { perStage[$0] ?? 0 } == [1, 2, 2, 2, 2, 1], "\(id):\n\(summary.stageTable)")
        let ops = graph.nodes.map { $0.domain.isEmpty ? $0.opType : "\($0.domain).\($0.opType)" }
        #expect(ops.filter { $0 == "ai.effnet.FusedMBConv" }.count == 5, "\(id): \(ops)")
        #expect(ops.filter { $0 == "ai.effnet.MBConv" }.count == 5, "\(id): \(ops)")
        #expect(!ops.contains("Cast"), "\(id): \(ops)")
        #expect(!ops.contains { $0.hasPrefix("com.microsoft") }, "\(id): \(ops)")
        // One layout change, before the first convolution: the NHWC input's.
        let transposes = graph.nodes.indices.filter { graph.nodes[$0].opType == "Transpose" }
        let firstConv = graph.nodes.firstIndex { $0.opType.hasSuffix("Conv") }
        #expect(transposes.count == 1 && firstConv.map { transposes[0] < $0 } == true, "\(id): \(ops)")
    }
}
