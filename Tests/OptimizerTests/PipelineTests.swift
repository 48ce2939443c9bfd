import Foundation
import IR
import Optimizer
import Runtime
import Testing

/// Every pass, applied in pipeline order to every fixture export, keeps the reference interpreter's outputs
/// within 1e-5 (absolute and relative) of the unoptimized graph's. The bound: BatchNorm folding rounds W·s to
/// float32 (relative 6e-8 per weight), which moves logits of magnitude ~3 by ~1e-6 after 20–40 layers.
/// A pass that leaves the graph equal (`==`: nodes, attributes and initializer bytes) is not re-interpreted: the
/// outputs of an equal graph are the same, and the interpreter is most of this suite's time in a debug build.
@Suite struct PipelineTests {
    static let tolerance = 1e-5

    @Test(arguments: ModelFixtures.onnxFiles)
    func everyPassPreservesOutputs(_ file: String) throws {
        let (model, feeds, _) = try ModelFixtures.load(file)
        var graph = model.graph
        let output = graph.outputs[0].name
        let original = try ReferenceInterpreter(graph: graph, opset: model.opset).run(feeds)[output]!
        for pass in Pipeline.standard.passes {
            let before = graph
            _ = try pass.run(&graph, context: PassContext(opset: model.opset))
            try graph.validate()
            if graph == before { continue }
            let now = try ReferenceInterpreter(graph: graph, opset: model.opset).run(feeds)[output]!
            #expect(
                ModelFixtures.allClose(now, original, atol: Self.tolerance, rtol: Self.tolerance),
                "\(file): after \(pass.name), max |Δ| = \(ModelFixtures.maxDifference(now, original))")
        }
    }

    @Test(arguments: ModelFixtures.onnxFiles)
    func optimizedGraphIsOnlyFusedBlocks(_ file: String) throws {
        let (model, _, _) = try ModelFixtures.load(file)
        var graph = model.graph
        _ = try Pipeline.standard.run(&graph, context: PassContext(opset: model.opset))
        let forbidden: Set = [
            "BatchNormalization", "Identity", "Dropout", "Shape", "Gather", "Pad", "Constant", "Conv",
        ]
        let left = graph.nodes.filter { forbidden.contains($0.opType) && $0.domain.isEmpty }.map(\.label)
        #expect(left.isEmpty, "\(file): left over \(left)")
        // Every block of the network is one fused op: the stage depths the fixture was made with.
        let meta =
            try JSONSerialization.jsonObject(
                with: Data(
                    contentsOf: ModelFixtures.models.appendingPathComponent(
                        file.split(separator: "/")[0] + "/meta.json")))
            as! [String: Any]
        if let reduced = meta["reduced"] as? [String: Any], let depths = reduced["stage_depths"] as? [Int] {
            let summary = NetworkSummary(graph: graph)
            let perStage = Dictionary(grouping: summary.blocks, by: \.stage).mapValues(\.count)
            #expect(
                summary.blocks.count == depths.reduce(0, +),
                "\(file): \(summary.blocks.count) blocks, expected \(depths)")
            #expect((1...depths.count).map { perStage[$0] ?? 0 } == depths, "\(file):\n\(summary.stageTable)")
        }
    }

    @Test(arguments: ModelFixtures.onnxFiles)
    func unfusingGivesStandardOnnxWithTheSameOutputs(_ file: String) throws {
        let (model, feeds, _) = try ModelFixtures.load(file)
        var graph = model.graph
        _ = try Pipeline.standard.run(&graph, context: PassContext(opset: model.opset))
        let fused = try ReferenceInterpreter(graph: graph, opset: model.opset).run(feeds)
        _ = try Unfuse().run(&graph, context: PassContext(opset: model.opset))
        try graph.validate()
        #expect(graph.nodes.allSatisfy { $0.domain.isEmpty }, "\(file): non-standard nodes remain")
        let plain = try ReferenceInterpreter(graph: graph, opset: model.opset).run(feeds)
        let name = graph.outputs[0].name
        // Not bit-identical: the interpreter evaluates FusedConv's activation before rounding to float32, the
        // unfused Conv → Sigmoid → Mul rounds in between.
        #expect(
            ModelFixtures.allClose(plain[name]!, fused[name]!, atol: Self.tolerance, rtol: Self.tolerance),
            "\(file): unfused graph computes differently, max |Δ| = \(ModelFixtures.maxDifference(plain[name]!, fused[name]!))"
        )
    }

    @Test func passSelection() throws {
        #expect(try Pipeline.selecting(only: ["fold-batchnorm"], skip: []).passes.map(\.name) == ["fold-batchnorm"])
        #expect(
            !(try Pipeline.selecting(only: nil, skip: ["fuse-mbconv"]).passes.contains { $0.name == "fuse-mbconv" }))
        #expect(throws: OptimizerError.self) { try Pipeline.selecting(only: ["no-such-pass"], skip: []) }
    }
}
