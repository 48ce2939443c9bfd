import IR
import Optimizer
import Runtime
import Testing

/// The exporter normalization passes on small hand-built graphs: each graph is run through the reference
/// interpreter before and after the pass and must agree within 1e-5 (float32 rounding of folded weights).
@Suite struct ExporterPassTests {
    typealias P = PassUnitTests
    static let context = PassContext(opset: 17)

    static func conv(_ x: String, _ w: String, _ y: String, bias: String? = nil) -> Node {
        Node(
            name: y, opType: "Conv", inputs: [x, w] + (bias.map { [$0] } ?? []), outputs: [y],
            attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])])
    }

    @Test func castsToTheSameTypeAndExactRoundTripsAreRemoved() throws {
        var seed: UInt64 = 11
        var graph = Graph(
            nodes: [
                Node(name: "c0", opType: "Cast", inputs: ["x"], outputs: ["a"], attributes: ["to": .int(1)]),
                Node(name: "c1", opType: "Cast", inputs: ["a"], outputs: ["b"], attributes: ["to": .int(11)]),
                Node(name: "c2", opType: "Cast", inputs: ["b"], outputs: ["c"], attributes: ["to": .int(1)]),
                Node(name: "relu", opType: "Relu", inputs: ["c"], outputs: ["r"]),
                // A narrowing round trip rounds: it must stay.
                Node(name: "c3", opType: "Cast", inputs: ["d"], outputs: ["e"], attributes: ["to": .int(1)]),
                Node(name: "c4", opType: "Cast", inputs: ["e"], outputs: ["y2"], attributes: ["to": .int(11)]),
            ],
            inputs: [
                ValueInfo(name: "x", dtype: .float32, shape: [2, 3]),
                ValueInfo(name: "d", dtype: .float64, shape: [2, 3]),
            ],
            outputs: [ValueInfo(name: "r", dtype: .float32, shape: nil), ValueInfo(name: "y2", dtype: .float64, shape: nil)])
        let before = graph
        let result = try EliminateCasts().run(&graph, context: Self.context)
        #expect(result.changes == 2)
        #expect(graph.nodes.map(\.name).filter { $0.hasPrefix("c") && $0 != "c1" } == ["c3", "c4"])
        #expect(graph.nodes.first { $0.opType == "Relu" }?.inputs == ["x"])
        let d = Tensor(shape: [2, 3], doubles: [0.1, 1.0 / 3, -2.7, 1e-9, 5, 7.123456789])
        try P.expectSameOutputs(before, graph, feeds: ["x": P.random([2, 3], seed: &seed), "d": d])
    }

    /// Keras's layout: NHWC input → NCHW conv → back to NHWC for the arithmetic BatchNorm and SiLU → NCHW again.
    @Test func transposesSinkAndCancelToOneAtTheInput() throws {
        var seed: UInt64 = 12
        let toNCHW: [String: Attribute] = ["perm": .ints([0, 3, 1, 2])]
        let toNHWC: [String: Attribute] = ["perm": .ints([0, 2, 3, 1])]
        var graph = Graph(
            nodes: [
                Node(name: "t0", opType: "Transpose", inputs: ["x"], outputs: ["xn"], attributes: toNCHW),
                Self.conv("xn", "w", "c"),
                Node(name: "t1", opType: "Transpose", inputs: ["c"], outputs: ["ch"], attributes: toNHWC),
                Node(name: "sub", opType: "Sub", inputs: ["ch", "mu"], outputs: ["s"]),
                Node(name: "mul", opType: "Mul", inputs: ["scale", "s"], outputs: ["m"]),
                Node(name: "sig", opType: "Sigmoid", inputs: ["m"], outputs: ["g"]),
                Node(name: "silu", opType: "Mul", inputs: ["m", "g"], outputs: ["a"]),
                Node(name: "res", opType: "Add", inputs: ["a", "ch"], outputs: ["r"]),
                Node(name: "t2", opType: "Transpose", inputs: ["r"], outputs: ["rn"], attributes: toNCHW),
                Self.conv("rn", "w2", "y"),
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [2, 5, 6, 3])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)],
            initializers: [
                "w": P.random([4, 3, 3, 3], seed: &seed), "w2": P.random([2, 4, 3, 3], seed: &seed),
                "mu": P.random([4], seed: &seed), "scale": P.random([1, 1, 1, 4], seed: &seed),
            ])
        let before = graph
        #expect(try SinkTransposes().run(&graph, context: Self.context).changes > 0)
        #expect(graph.nodes.filter { $0.opType == "Transpose" }.map(\.inputs) == [["x"]])
        try P.expectSameOutputs(before, graph, feeds: ["x": P.random([2, 5, 6, 3], seed: &seed)])
    }

    @Test func transposedReduceMeanReducesTheMappedAxes() throws {
        var seed: UInt64 = 13
        var graph = Graph(
            nodes: [
                Node(name: "t", opType: "Transpose", inputs: ["x"], outputs: ["h"], attributes: ["perm": .ints([0, 2, 3, 1])]),
                Node(name: "mean", opType: "ReduceMean", inputs: ["h"], outputs: ["y"],
                     attributes: ["axes": .ints([1, 2]), "keepdims": .int(0)]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [2, 4, 3, 5])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)])
        let before = graph
        #expect(try SinkTransposes().run(&graph, context: Self.context).changes == 1)
        #expect(graph.nodes.map(\.opType) == ["ReduceMean"])
        #expect(graph.nodes[0].ints("axes") == [2, 3])
        try P.expectSameOutputs(before, graph, feeds: ["x": P.random([2, 4, 3, 5], seed: &seed)])
    }

    /// (y − μ)·γ/√(σ²+ε) + β in an exporter's order, plus the `k − y` and `y / k` forms.
    @Test func arithmeticAfterConvFoldsIntoIt() throws {
        var seed: UInt64 = 14
        var graph = Graph(
            nodes: [
                Self.conv("x", "w", "c", bias: "b"),
                Node(name: "sub", opType: "Sub", inputs: ["c", "mu"], outputs: ["s"]),
                Node(name: "mul", opType: "Mul", inputs: ["g", "s"], outputs: ["m"]),
                Node(name: "div", opType: "Div", inputs: ["m", "sd"], outputs: ["d"]),
                Node(name: "neg", opType: "Sub", inputs: ["k", "d"], outputs: ["n"]),
                Node(name: "add", opType: "Add", inputs: ["n", "beta"], outputs: ["y"]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [2, 3, 5, 5])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)],
            initializers: [
                "w": P.random([4, 3, 3, 3], seed: &seed), "b": P.random([4], seed: &seed),
                "mu": P.random([4, 1, 1], seed: &seed), "g": P.random([1, 4, 1, 1], seed: &seed),
                "sd": Tensor(shape: [4, 1, 1], floats: [0.5, 1.5, 2, 0.75]), "k": Tensor.scalar(Float(0.25)),
                "beta": P.random([1, 4, 1, 1], seed: &seed),
            ])
        let before = graph
        #expect(try FoldConvArithmetic().run(&graph, context: Self.context).changes == 1)
        #expect(graph.nodes.map(\.opType) == ["Conv"])
        try P.expectSameOutputs(before, graph, feeds: ["x": P.random([2, 3, 5, 5], seed: &seed)])
    }

    /// (y − μ)/√(σ² + ε)·γ + β with the square root still in the graph: constant folding evaluates it first.
    @Test func batchNormWithSqrtOfConstantsFoldsAfterConstantFolding() throws {
        var seed: UInt64 = 17
        var graph = Graph(
            nodes: [
                Self.conv("x", "w", "c"),
                Node(name: "veps", opType: "Add", inputs: ["var", "eps"], outputs: ["ve"]),
                Node(name: "sqrt", opType: "Sqrt", inputs: ["ve"], outputs: ["sd"]),
                Node(name: "sub", opType: "Sub", inputs: ["c", "mu"], outputs: ["s"]),
                Node(name: "div", opType: "Div", inputs: ["s", "sd"], outputs: ["d"]),
                Node(name: "mul", opType: "Mul", inputs: ["d", "g"], outputs: ["m"]),
                Node(name: "add", opType: "Add", inputs: ["m", "beta"], outputs: ["y"]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [2, 3, 5, 5])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)],
            initializers: [
                "w": P.random([4, 3, 3, 3], seed: &seed), "mu": P.random([4, 1, 1], seed: &seed),
                "var": Tensor(shape: [4, 1, 1], floats: [0.5, 1.5, 2, 0.75]), "eps": Tensor.scalar(Float(1e-3)),
                "g": P.random([4, 1, 1], seed: &seed), "beta": P.random([4, 1, 1], seed: &seed),
            ])
        let before = graph
        #expect(try FoldConstants().run(&graph, context: Self.context).changes == 2)
        #expect(try FoldConvArithmetic().run(&graph, context: Self.context).changes == 1)
        #expect(graph.nodes.map(\.opType) == ["Conv"])
        try P.expectSameOutputs(before, graph, feeds: ["x": P.random([2, 3, 5, 5], seed: &seed)])
    }

    /// Per-channel constants shaped for the last axis ([C] against NCHW) are not per-channel: left alone.
    @Test func lastAxisConstantsAreNotFolded() throws {
        var seed: UInt64 = 15
        var graph = Graph(
            nodes: [Self.conv("x", "w", "c"), Node(name: "add", opType: "Add", inputs: ["c", "k"], outputs: ["y"])],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [1, 3, 4, 4])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)],
            initializers: ["w": P.random([4, 3, 3, 3], seed: &seed), "k": P.random([4], seed: &seed)])
        #expect(try FoldConvArithmetic().run(&graph, context: Self.context) == .unchanged)
    }

    /// Keras's SE squeeze: ReduceMean(keepdims 0) → Reshape to [N, 1, 1, C] (from Shape/Gather) → Transpose.
    @Test func squeezeReshapesCollapseToAKeepdimsMean() throws {
        var seed: UInt64 = 16
        var graph = Graph(
            nodes: [
                Node(name: "mean", opType: "ReduceMean", inputs: ["x", "axes"], outputs: ["m"],
                     attributes: ["keepdims": .int(0)]),
                Node(name: "shape", opType: "Shape", inputs: ["m"], outputs: ["sh"]),
                Node(name: "batch", opType: "Gather", inputs: ["sh", "zero"], outputs: ["n"], attributes: ["axis": .int(0)]),
                Node(name: "cat", opType: "Concat", inputs: ["n", "rest"], outputs: ["target"], attributes: ["axis": .int(0)]),
                Node(name: "reshape", opType: "Reshape", inputs: ["m", "target"], outputs: ["r"]),
                Node(name: "t", opType: "Transpose", inputs: ["r"], outputs: ["s"], attributes: ["perm": .ints([0, 3, 1, 2])]),
                Node(name: "scale", opType: "Mul", inputs: ["x", "s"], outputs: ["y"]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [.symbol("N"), 4, 3, 3])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)],
            initializers: [
                "axes": Tensor(shape: [2], int64s: [2, 3]), "zero": Tensor(shape: [1], int64s: [0]),
                "rest": Tensor(shape: [3], int64s: [1, 1, 4]),
            ])
        let before = graph
        #expect(try NormalizeSqueezeExcitation().run(&graph, context: PassContext(opset: 18)).changes == 1)
        #expect(graph.nodes.map(\.opType) == ["ReduceMean", "Mul"])
        #expect(graph.nodes[0].int("keepdims") == 1)
        try P.expectSameOutputs(before, graph, feeds: ["x": P.random([2, 4, 3, 3], seed: &seed)], opset: 18)
    }

    /// SE on the pooled vector with MatMul / Gemm (Dense layers): lifted to 1×1 convolutions, then fused.
    @Test func pooledVectorSqueezeExcitationBecomesConvolutions() throws {
        var seed: UInt64 = 18
        var graph = Graph(
            nodes: [
                Node(name: "mean", opType: "ReduceMean", inputs: ["x"], outputs: ["m"],
                     attributes: ["axes": .ints([2, 3]), "keepdims": .int(0)]),
                Node(name: "fc1", opType: "MatMul", inputs: ["m", "w1"], outputs: ["h"]),
                Node(name: "b1", opType: "Add", inputs: ["h", "bias1"], outputs: ["hb"]),
                Node(name: "sig", opType: "Sigmoid", inputs: ["hb"], outputs: ["s"]),
                Node(name: "silu", opType: "Mul", inputs: ["s", "hb"], outputs: ["a"]),
                Node(name: "fc2", opType: "Gemm", inputs: ["a", "w2", "bias2"], outputs: ["e"],
                     attributes: ["transB": .int(1)]),
                Node(name: "gate", opType: "Sigmoid", inputs: ["e"], outputs: ["g"]),
                Node(name: "reshape", opType: "Reshape", inputs: ["g", "shape"], outputs: ["g4"]),
                Node(name: "scale", opType: "Mul", inputs: ["x", "g4"], outputs: ["y"]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [2, 8, 4, 4])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)],
            initializers: [
                "w1": P.random([8, 2], seed: &seed), "bias1": P.random([2], seed: &seed),
                "w2": P.random([8, 2], seed: &seed), "bias2": P.random([8], seed: &seed),
                "shape": Tensor(shape: [4], int64s: [-1, 8, 1, 1]),
            ])
        let before = graph
        #expect(try SqueezeExcitationAsConv().run(&graph, context: Self.context).changes == 1)
        #expect(!graph.nodes.contains { ["MatMul", "Gemm", "Reshape"].contains($0.opType) })
        #expect(graph.nodes.filter { $0.opType == "Conv" }.count == 2)
        try P.expectSameOutputs(before, graph, feeds: ["x": P.random([2, 8, 4, 4], seed: &seed)])
        var full = before
        _ = try Pipeline.standard.run(&full, context: Self.context)
        #expect(full.nodes.map(\.opType) == ["SqueezeExcite"])
        try P.expectSameOutputs(before, full, feeds: ["x": P.random([2, 8, 4, 4], seed: &seed)])
    }
}
