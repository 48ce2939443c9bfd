import Formats
import Foundation
import IR
import Optimizer
import Runtime
import Testing

@testable import Verify

/// A pass that scales one convolution weight: a stand-in for an optimizer bug.
struct CorruptOneWeight: GraphPass {
    let name = "corrupt-one-weight"
    let target: String

    func run(_ graph: inout Graph, context: PassContext) throws -> PassResult {
        guard let i = graph.nodes.firstIndex(where: { $0.name == target }),
            let w = graph.initializers[graph.nodes[i].inputs[1]]
        else { return .unchanged }
        graph.initializers[graph.nodes[i].inputs[1]] = Tensor(shape: w.shape, floats: w.floats.map { $0 * 1.5 })
        return PassResult(changes: 1, summary: "scaled one weight")
    }
}

@Suite struct DivergenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/models/torchvision_efficientnet_v2_s")

    @Test func namesTheBrokenPassAndNode() throws {
        let model = try ONNXReader.read(contentsOf: Self.root.appendingPathComponent("torchscript.onnx").path)
        let io = try NPZ.read(contentsOf: Self.root.appendingPathComponent("io.npz").path)
        let feeds = [model.graph.inputs[0].name: io.first { $0.name == "input" }!.tensor]
        // The last convolution before the head, after folding: corrupting it must be blamed on the pass and node.
        let target = try #require(model.graph.nodes.last { $0.opType == "Conv" }?.name)
        let pipeline = Pipeline(passes: [
            EliminateIdentity(), FoldConstants(), CorruptOneWeight(target: target), FoldBatchNorm(),
        ])
        var optimized = model.graph
        optimized.bindSpatialDims(feeds)
        _ = try pipeline.run(&optimized, context: PassContext(opset: model.opset))
        let found = try DivergenceFinder(
            model: model, optimizedGraph: optimized, feeds: feeds, tolerance: Tolerance(1e-4), threads: 1,
            pipeline: pipeline
        ).locate(importFailed: false)
        #expect(found.stage == "optimizer")
        #expect(found.pass == "corrupt-one-weight")
        #expect(found.node == target, "blamed \(found.node ?? "nothing")")
    }

    @Test func cleanPipelineFindsNoOptimizerFault() throws {
        let model = try ONNXReader.read(contentsOf: Self.root.appendingPathComponent("torchscript.onnx").path)
        let io = try NPZ.read(contentsOf: Self.root.appendingPathComponent("io.npz").path)
        let feeds = [model.graph.inputs[0].name: io.first { $0.name == "input" }!.tensor]
        var optimized = model.graph
        optimized.bindSpatialDims(feeds)
        _ = try Pipeline.standard.run(&optimized, context: PassContext(opset: model.opset))
        let found = try DivergenceFinder(
            model: model, optimizedGraph: optimized, feeds: feeds, tolerance: Tolerance(1e-4), threads: 1
        ).locate(importFailed: false)
        // Nothing is wrong, so the search ends without naming a pass or a node.
        #expect(found.pass == nil && found.node == nil)
    }

    @Test func randomInputsAreSeededAndShaped() throws {
        let g = Graph(inputs: [
            ValueInfo(name: "x", dtype: .float32, shape: [.symbol("N"), 3, .symbol("H"), .symbol("H")])
        ])
        let a = try RandomInputs.make(for: g, seed: 3, defaultSize: 8, path: "m")
        let b = try RandomInputs.make(for: g, seed: 3, defaultSize: 8, path: "m")
        #expect(a == b && a["x"]!.shape == [1, 3, 8, 8])
        #expect(a["x"]!.floats.allSatisfy { $0 >= -2 && $0 < 2 })
        #expect(throws: VerifyError.self) { try RandomInputs.make(for: g, seed: 3, defaultSize: nil, path: "m") }
    }
}
