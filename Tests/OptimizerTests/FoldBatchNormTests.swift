import Foundation
import IR
import Optimizer
import Runtime
import Testing

/// BatchNorm folding into each kind of producer, against the reference interpreter on the unfolded graph.
/// Tolerance 1e-5 absolute and relative: folding rounds W·s to float32 (relative 6e-8 per weight) over sums of at
/// most 36 products.
@Suite struct FoldBatchNormTests {
    struct Values {
        var state: UInt64
        mutating func next(_ n: Int, _ range: ClosedRange<Float> = -1...1) -> [Float] {
            (0..<n).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return range.lowerBound + Float(state >> 40) / Float(1 << 24) * (range.upperBound - range.lowerBound)
            }
        }
    }

    /// γ, β, μ, σ² initializers for `c` channels named `prefix.*`, and the BN node reading `input`.
    static func batchNorm(
        _ input: String, output: String, c: Int, prefix: String, values: inout Values,
        into initializers: inout [String: Tensor]
    ) -> Node {
        let names = ["gamma", "beta", "mean", "var"].map { "\(prefix).\($0)" }
        initializers[names[0]] = Tensor(shape: [c], floats: values.next(c, 0.5...1.5))
        initializers[names[1]] = Tensor(shape: [c], floats: values.next(c))
        initializers[names[2]] = Tensor(shape: [c], floats: values.next(c))
        initializers[names[3]] = Tensor(shape: [c], floats: values.next(c, 0.2...2))
        return Node(
            name: prefix, opType: "BatchNormalization", inputs: [input] + names, outputs: [output],
            attributes: ["epsilon": .float(1e-3)])
    }

    /// Conv → BN twice with one shared weight (copied, not changed in place), then Flatten → Gemm → BN with
    /// `transB` 0 or 1.
    @Test(arguments: [false, true])
    func foldsIntoConvAndGemm(transB: Bool) throws {
        var values = Values(state: transB ? 7 : 3)
        var initializers = [String: Tensor]()
        initializers["w"] = Tensor(shape: [4, 3, 3, 3], floats: values.next(108))
        initializers["b"] = Tensor(shape: [4], floats: values.next(4))
        initializers["w2"] = Tensor(shape: [4, 4, 1, 1], floats: values.next(16))
        initializers["fc"] = Tensor(shape: transB ? [5, 4] : [4, 5], floats: values.next(20))
        initializers["fc.c"] = Tensor(shape: [5], floats: values.next(5))
        let pads: Attribute = .ints([1, 1, 1, 1])
        var nodes = [
            Node(name: "c1", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y1"], attributes: ["pads": pads]),
            Self.batchNorm("y1", output: "z1", c: 4, prefix: "bn1", values: &values, into: &initializers),
            Node(name: "c2", opType: "Conv", inputs: ["z1", "w2"], outputs: ["y2"]),
            Self.batchNorm("y2", output: "z2", c: 4, prefix: "bn2", values: &values, into: &initializers),
            Node(name: "c3", opType: "Conv", inputs: ["z2", "w2"], outputs: ["y3"]),
            Self.batchNorm("y3", output: "z3", c: 4, prefix: "bn3", values: &values, into: &initializers),
        ]
        nodes += [
            Node(name: "pool", opType: "GlobalAveragePool", inputs: ["z3"], outputs: ["p"]),
            Node(name: "flat", opType: "Flatten", inputs: ["p"], outputs: ["f"], attributes: ["axis": .int(1)]),
            Node(
                name: "fc", opType: "Gemm", inputs: ["f", "fc", "fc.c"], outputs: ["g"],
                attributes: ["transB": .int(transB ? 1 : 0), "alpha": .float(0.5), "beta": .float(2)]),
            Self.batchNorm("g", output: "out", c: 5, prefix: "bn4", values: &values, into: &initializers),
        ]
        let graph = Graph(
            nodes: nodes, inputs: [ValueInfo(name: "x", dtype: .float32, shape: [2, 3, 6, 5])],
            outputs: [ValueInfo(name: "out", dtype: .float32, shape: nil)], initializers: initializers)
        let feeds = ["x": Tensor(shape: [2, 3, 6, 5], floats: values.next(180))]
        let expected = try ReferenceInterpreter(graph: graph, opset: 17).run(feeds)["out"]!

        var folded = graph
        let result = try FoldBatchNorm().run(&folded, context: PassContext(opset: 17))
        try folded.validate()
        #expect(result.changes == 4)
        #expect(!folded.nodes.contains { $0.opType == "BatchNormalization" })
        #expect(folded.initializers["w2"] == graph.initializers["w2"], "a shared weight is copied, not scaled")
        #expect(folded.initializers["w"] != graph.initializers["w"], "an unshared weight is scaled in place")
        let got = try ReferenceInterpreter(graph: folded, opset: 17).run(feeds)["out"]!
        let worst = zip(got.doubles, expected.doubles).map { abs($0 - $1) / (1e-5 + 1e-5 * abs($1)) }.max() ?? 0
        #expect(worst <= 1, "worst error \(worst) × tolerance")
    }
}
