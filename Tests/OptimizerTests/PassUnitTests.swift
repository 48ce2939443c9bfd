import IR
import Optimizer
import Runtime
import Testing

/// Pass branches the exported fixtures do not reach, on small hand-built graphs: each is run through the reference
/// interpreter before and after the pass and must agree within 1e-5 (float32 rounding of folded weights).
@Suite struct PassUnitTests {
    static func random(_ shape: [Int], seed: inout UInt64, scale: Float = 1) -> Tensor {
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Float(seed >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
        return Tensor(shape: shape, floats: values)
    }

    static func expectSameOutputs(_ before: Graph, _ after: Graph, feeds: [String: Tensor], opset: Int = 17) throws {
        let a = try ReferenceInterpreter(graph: before, opset: opset).run(feeds)
        let b = try ReferenceInterpreter(graph: after, opset: opset).run(feeds)
        for output in before.outputs {
            let x = a[output.name]!
            let y = b[output.name]!
            #expect(
                ModelFixtures.allClose(y, x, atol: 1e-5, rtol: 1e-5),
                "\(output.name): max |Δ| \(ModelFixtures.maxDifference(x, y))")
        }
    }

    static func batchNorm(_ c: Int, prefix: String, seed: inout UInt64) -> [String: Tensor] {
        let variance = random([c], seed: &seed).floats.map { abs($0) + 0.5 }
        return [
            "\(prefix).g": random([c], seed: &seed), "\(prefix).b": random([c], seed: &seed),
            "\(prefix).m": random([c], seed: &seed), "\(prefix).v": Tensor(shape: [c], floats: variance),
        ]
    }

    @Test func loneBatchNormBecomesScaleAndShift() throws {
        var seed: UInt64 = 1
        var graph = Graph(
            nodes: [
                Node(name: "relu", opType: "Relu", inputs: ["x"], outputs: ["r"]),
                Node(
                    name: "bn", opType: "BatchNormalization", inputs: ["r", "bn.g", "bn.b", "bn.m", "bn.v"],
                    outputs: ["y"],
                    attributes: ["epsilon": .float(1e-3)]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [2, 3, 4, 5])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)],
            initializers: Self.batchNorm(3, prefix: "bn", seed: &seed))
        graph = try ShapeInference.infer(graph, opset: 17)
        let before = graph
        let result = try FoldBatchNorm().run(&graph, context: PassContext(opset: 17))
        #expect(result.changes == 1)
        #expect(graph.nodes.map(\.opType) == ["Relu", "Mul", "Add"])
        try Self.expectSameOutputs(before, graph, feeds: ["x": Self.random([2, 3, 4, 5], seed: &seed)])
    }

    @Test(arguments: [false, true])
    func batchNormAfterGemmFoldsIntoIt(transB: Bool) throws {
        var seed: UInt64 = 2
        var inits = Self.batchNorm(6, prefix: "bn", seed: &seed)
        inits["w"] = Self.random(transB ? [6, 4] : [4, 6], seed: &seed)
        inits["c"] = Self.random([6], seed: &seed)
        var graph = Graph(
            nodes: [
                Node(
                    name: "fc", opType: "Gemm", inputs: ["x", "w", "c"], outputs: ["f"],
                    attributes: ["transB": .int(transB ? 1 : 0), "alpha": .float(0.5), "beta": .float(2)]),
                Node(
                    name: "bn", opType: "BatchNormalization", inputs: ["f", "bn.g", "bn.b", "bn.m", "bn.v"],
                    outputs: ["y"]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [3, 4])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)], initializers: inits)
        let before = graph
        #expect(try FoldBatchNorm().run(&graph, context: PassContext(opset: 17)).changes == 1)
        #expect(graph.nodes.map(\.opType) == ["Gemm"])
        try Self.expectSameOutputs(before, graph, feeds: ["x": Self.random([3, 4], seed: &seed)])
    }

    @Test func opset18PadWithAxesFoldsIntoConv() throws {
        var seed: UInt64 = 3
        var graph = Graph(
            nodes: [
                Node(name: "pad", opType: "Pad", inputs: ["x", "pads", "", "axes"], outputs: ["p"]),
                Node(
                    name: "conv", opType: "Conv", inputs: ["p", "w", "b"], outputs: ["y"],
                    attributes: [
                        "kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([0, 0, 0, 0]),
                    ]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [1, 2, 7, 8])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)],
            initializers: [
                "pads": Tensor(shape: [4], int64s: [0, 1, 1, 1]), "axes": Tensor(shape: [2], int64s: [2, 3]),
                "w": Self.random([4, 2, 3, 3], seed: &seed), "b": Self.random([4], seed: &seed),
            ])
        graph = try ShapeInference.infer(graph, opset: 18)
        let before = graph
        #expect(try FoldPad().run(&graph, context: PassContext(opset: 18)).changes == 1)
        #expect(graph.nodes.map(\.opType) == ["Conv"])
        #expect(graph.nodes[0].ints("pads") == [0, 1, 1, 1])
        try Self.expectSameOutputs(before, graph, feeds: ["x": Self.random([1, 2, 7, 8], seed: &seed)], opset: 18)
    }

    @Test(arguments: [("SAME_UPPER", [0, 0, 1, 1]), ("SAME_LOWER", [1, 1, 0, 0]), ("VALID", [0, 0, 0, 0])])
    func autoPadBecomesExplicit(mode: String, expected: [Int]) throws {
        var seed: UInt64 = 4
        var graph = Graph(
            nodes: [
                Node(
                    name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"],
                    attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "auto_pad": .string(mode)])
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [1, 2, 8, 8])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)],
            initializers: ["w": Self.random([3, 2, 3, 3], seed: &seed)])
        graph = try ShapeInference.infer(graph, opset: 17)
        let before = graph
        _ = try FoldPad().run(&graph, context: PassContext(opset: 17))
        #expect(graph.nodes[0].string("auto_pad") == nil)
        #expect(graph.nodes[0].ints("pads") == expected)
        try Self.expectSameOutputs(before, graph, feeds: ["x": Self.random([1, 2, 8, 8], seed: &seed)])
    }

    /// A Pad that also pads channels, or with a non-zero value, must stay.
    @Test func nonZeroOrChannelPadStays() throws {
        var seed: UInt64 = 5
        for (pads, value) in [([0, 1, 0, 0, 0, 0, 0, 0], Float(0)), ([0, 0, 1, 1, 0, 0, 1, 1], Float(0.5))] {
            var graph = Graph(
                nodes: [
                    Node(name: "pad", opType: "Pad", inputs: ["x", "pads", "v"], outputs: ["p"]),
                    Node(
                        name: "conv", opType: "Conv", inputs: ["p", "w"], outputs: ["y"],
                        attributes: ["kernel_shape": .ints([1, 1])]),
                ],
                inputs: [ValueInfo(name: "x", dtype: .float32, shape: [1, 2, 4, 4])],
                outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)],
                initializers: [
                    "pads": Tensor(shape: [8], int64s: pads.map(Int64.init)), "v": .scalar(value),
                    "w": Self.random([2, pads[1] == 1 ? 3 : 2, 1, 1], seed: &seed),
                ])
            #expect(try FoldPad().run(&graph, context: PassContext(opset: 17)).changes == 0)
            #expect(graph.nodes.count == 2)
        }
    }

    @Test func identityFeedingAGraphOutputKeepsTheOutputName() throws {
        var graph = Graph(
            nodes: [
                Node(name: "relu", opType: "Relu", inputs: ["x"], outputs: ["r"]),
                Node(name: "id", opType: "Identity", inputs: ["r"], outputs: ["y"]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [2])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: [2])])
        #expect(try EliminateIdentity().run(&graph, context: PassContext(opset: 17)).changes == 1)
        #expect(graph.nodes.map(\.opType) == ["Relu"] && graph.nodes[0].outputs == ["y"])
        try graph.validate()
    }
}
