import Foundation
import IR
import Testing

@testable import Runtime

/// Semantics the official ONNX backend test data expects, each checked on both runtimes: the reference
/// interpreter computes it; the native session computes it or refuses before running, saying "not supported"
/// and what is. Each case was once wrong (silently) in one of them.
@Suite struct ConformanceTests {
    static func graph(
        _ nodes: [Node], inputs: [(String, DType, [Int])], outputs: [String], initializers: [String: Tensor] = [:]
    ) -> Graph {
        Graph(
            nodes: nodes, inputs: inputs.map { ValueInfo(name: $0.0, dtype: $0.1, shape: Shape($0.2)) },
            outputs: outputs.map { ValueInfo(name: $0, dtype: nil, shape: nil) }, initializers: initializers)
    }

    static func random(_ shape: [Int], seed: UInt64, scale: Float = 3) -> Tensor {
        var rng = SplitMix64(seed: seed)
        return Tensor(shape: shape, floats: rng.floats(shape.reduce(1, *), in: -scale...scale))
    }

    /// Refuses with a message naming what is not supported.
    static func expectRefusal(_ graph: Graph, opset: Int, feeds: [String: Tensor], mentioning: String) {
        do {
            _ = try InferenceSession(graph: graph, opset: opset, threads: 1).run(feeds)
            Issue.record("the native session ran a graph it should refuse (\(mentioning))")
        } catch {
            #expect("\(error)".contains("not supported"), "\(error)")
            #expect("\(error)".contains(mentioning), "\(error)")
        }
    }

    // MARK: Softmax: opset < 13 coerces the input to 2-D at `axis` (default 1)

    /// Opset 11, no axis, rank 3: the sum runs over the last two axes together (12 of 30 outputs were wrong
    /// when the native plan took the last axis alone).
    @Test(arguments: [11, 13]) func softmaxDefaultAxisFollowsOpset(opset: Int) throws {
        let x = Self.random([2, 3, 5], seed: 11)
        let g = Self.graph(
            [Node(name: "sm", opType: "Softmax", inputs: ["x"], outputs: ["y"])], inputs: [("x", .float32, [2, 3, 5])],
            outputs: ["y"])
        let v = x.floats.map(Double.init)
        let group = opset < 13 ? 15 : 5
        var expected = [Double](repeating: 0, count: v.count)
        for start in stride(from: 0, to: v.count, by: group) {
            let slice = v[start..<(start + group)]
            let m = slice.max()!
            let sum = slice.reduce(0) { $0 + exp($1 - m) }
            for i in slice.indices { expected[i] = exp(v[i] - m) / sum }
        }
        let native = try InferenceSession(graph: g, opset: opset, threads: 2).run(["x": x])["y"]!.floats
        let reference = try ReferenceInterpreter(graph: g, opset: opset).run(["x": x])["y"]!.floats
        for (name, y) in [("native", native), ("reference", reference)] {
            let worst = zip(y, expected).map { abs(Double($0) - $1) }.max()!
            #expect(worst <= 1e-6, "\(name) opset \(opset): max |Δ| = \(worst)")
        }
    }

    @Test func softmaxOverANonLastAxisIsRefusedNatively() {
        let g = Self.graph(
            [Node(name: "sm", opType: "Softmax", inputs: ["x"], outputs: ["y"], attributes: ["axis": .int(1)])],
            inputs: [("x", .float32, [2, 3, 5])], outputs: ["y"])
        Self.expectRefusal(g, opset: 13, feeds: ["x": Self.random([2, 3, 5], seed: 1)], mentioning: "only over the last axis")
    }

    // MARK: Integer Div truncates, exactly

    /// Integer division truncates toward zero and is exact in Int64 (2^62 + 1 has no float32 or float64 form).
    @Test func integerDivIsTruncatingAndExact() throws {
        let a = Tensor(shape: [5], int64s: [(1 << 62) + 1, -7, 7, -7, 7])
        let b = Tensor(shape: [5], int64s: [3, 2, -2, -2, 2])
        let quotient = Tensor(shape: [5], int64s: [1_537_228_672_809_129_301, -3, -3, 3, 3])
        let div = Node(name: "div", opType: "Div", inputs: ["a", "b"], outputs: ["q"])
        // Run-time integers: the interpreter computes them; the native session refuses (float32 kernels only).
        let runtime = Self.graph([div], inputs: [("a", .int64, [5]), ("b", .int64, [5])], outputs: ["q"])
        #expect(try ReferenceInterpreter(graph: runtime, opset: 13).run(["a": a, "b": b])["q"] == quotient)
        Self.expectRefusal(runtime, opset: 13, feeds: ["a": a, "b": b], mentioning: "only float32")
        // Known integers (shape arithmetic): both compute them exactly, in their dtype.
        let known = Self.graph([div], inputs: [], outputs: ["q"], initializers: ["a": a, "b": b])
        #expect(try ReferenceInterpreter(graph: known, opset: 13).run([:])["q"] == quotient)
        #expect(try InferenceSession(graph: known, opset: 13, threads: 1).run([:])["q"] == quotient)
        let int32 = try ConstantEvaluator.evaluate(
            node: div, inputs: [Tensor(shape: [2], int32s: [-9, 9]), Tensor(shape: [2], int32s: [4, -4])], opset: 13)
        #expect(int32 == [Tensor(shape: [2], int32s: [-2, -2])])
    }

    // MARK: Clip with min > max gives max

    @Test func clipWithMinAboveMaxGivesMax() throws {
        let x = Tensor(shape: [6], floats: [-3, 0, 0.5, 1.5, 4, .nan])
        let lo = Tensor.scalar(Float(2))
        let hi = Tensor.scalar(Float(1))
        let clip = Node(name: "clip", opType: "Clip", inputs: ["x", "lo", "hi"], outputs: ["y"])
        let g = Self.graph([clip], inputs: [("x", .float32, [6])], outputs: ["y"], initializers: ["lo": lo, "hi": hi])
        let expected: [Float] = [1, 1, 1, 1, 1]
        let native = try InferenceSession(graph: g, opset: 13, threads: 1).run(["x": x])["y"]!.floats
        let reference = try ReferenceInterpreter(graph: g, opset: 13).run(["x": x])["y"]!.floats
        let folded = try ConstantEvaluator.evaluate(node: clip, inputs: [x, lo, hi], opset: 13)[0].floats
        for (name, y) in [("native", native), ("reference", reference), ("constant folding", folded)] {
            #expect(Array(y.prefix(5)) == expected, "\(name): \(y)")
        }
        #expect(reference[5].isNaN && folded[5].isNaN, "NaN stays NaN")
        let ints = try ConstantEvaluator.evaluate(
            node: clip, inputs: [Tensor(shape: [3], int64s: [-5, 0, 9]), .scalar(Int64(3)), .scalar(Int64(-1))],
            opset: 13)
        #expect(ints == [Tensor(shape: [3], int64s: [-1, -1, -1])])
    }

    // MARK: Reshape allowzero

    /// allowzero = 1: a 0 in the shape is a zero-sized dimension, not "copy the input's".
    @Test func reshapeAllowzeroKeepsZero() throws {
        let x = Tensor(shape: [0, 3], floats: [])
        let reshape = Node(
            name: "r", opType: "Reshape", inputs: ["x", "s"], outputs: ["y"], attributes: ["allowzero": .int(1)])
        let g = Self.graph(
            [reshape], inputs: [("x", .float32, [0, 3])], outputs: ["y"],
            initializers: ["s": Tensor(shape: [2], int64s: [3, 0])])
        #expect(try InferenceSession(graph: g, opset: 14, threads: 1).run(["x": x])["y"]?.shape == [3, 0])
        #expect(try ReferenceInterpreter(graph: g, opset: 14).run(["x": x])["y"]?.shape == [3, 0])
        // allowzero = 0 copies the input's size: [3, 3] cannot hold 0 elements, and both runtimes refuse it.
        var copying = g
        copying.nodes[0].attributes["allowzero"] = .int(0)
        #expect(throws: (any Error).self) { try InferenceSession(graph: copying, opset: 14, threads: 1).run(["x": x]) }
        #expect(throws: (any Error).self) { try ReferenceInterpreter(graph: copying, opset: 14).run(["x": x]) }
    }

    // MARK: float64: exact or refused

    @Test func float64IsComputedExactlyOrRefused() throws {
        let x = Tensor(shape: [3], doubles: [1e-300, 1 + 1e-12, -2.5])
        let y = Tensor(shape: [3], doubles: [3, 1e-12, 0.5])
        let add = Node(name: "add", opType: "Add", inputs: ["x", "y"], outputs: ["z"])
        let runtime = Self.graph([add], inputs: [("x", .float64, [3]), ("y", .float64, [3])], outputs: ["z"])
        let sum = try ReferenceInterpreter(graph: runtime, opset: 13).run(["x": x, "y": y])["z"]!
        #expect(sum.dtype == .float64 && sum.doubles == zip(x.doubles, y.doubles).map { $0 + $1 })
        Self.expectRefusal(runtime, opset: 13, feeds: ["x": x, "y": y], mentioning: "float64")
        // A float64 value computed at run time from a float32 input: refused too.
        let cast = Self.graph(
            [
                Node(name: "c", opType: "Cast", inputs: ["x"], outputs: ["d"], attributes: ["to": .int(11)]),
                Node(name: "r", opType: "Relu", inputs: ["d"], outputs: ["z"]),
            ], inputs: [("x", .float32, [3])], outputs: ["z"])
        Self.expectRefusal(
            cast, opset: 13, feeds: ["x": Tensor(shape: [3], floats: [1, 2, 3])], mentioning: "float64")
        // Known float64 values: exact, in float64.
        let known = Self.graph([add], inputs: [], outputs: ["z"], initializers: ["x": x, "y": y])
        #expect(try InferenceSession(graph: known, opset: 13, threads: 1).run([:])["z"] == sum)
        // A float64 feed for a float32 input is not silently narrowed.
        let relu = Self.graph(
            [Node(name: "r", opType: "Relu", inputs: ["x"], outputs: ["z"])], inputs: [("x", .float32, [3])],
            outputs: ["z"])
        #expect(throws: RuntimeError.self) { try InferenceSession(graph: relu, opset: 13, threads: 1).run(["x": x]) }
    }

    // MARK: 1-D Conv: refused by the native session when it is created, run by the interpreter

    @Test func conv1DIsRefusedBeforeRunning() throws {
        let conv = Node(
            name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: ["pads": .ints([1, 1])])
        // Symbolic length: the session cannot plan at creation, yet it refuses then, not at the first run.
        var g = Self.graph(
            [conv], inputs: [("x", .float32, [1, 2, 7])], outputs: ["y"],
            initializers: ["w": Self.random([3, 2, 3], seed: 3)])
        g.inputs[0].shape = [.known(1), .known(2), .symbol("L")]
        #expect {
            _ = try InferenceSession(graph: g, opset: 13, threads: 1)
        } throws: { error in
            "\(error)".contains("1-D convolution") && "\(error)".contains("not supported")
                && "\(error)".contains("only 2-D")
        }
        let y = try ReferenceInterpreter(graph: g, opset: 13).run(["x": Self.random([1, 2, 7], seed: 4)])["y"]!
        #expect(y.shape == [1, 3, 7])
    }

    // MARK: Refusals say what is supported

    @Test func refusalsSayWhatIsSupported() {
        let x4 = Self.random([2, 3, 4, 5], seed: 5)
        let a = Self.random([3, 2], seed: 6)
        // Gemm transA.
        Self.expectRefusal(
            Self.graph(
                [Node(name: "g", opType: "Gemm", inputs: ["a", "b"], outputs: ["y"], attributes: ["transA": .int(1)])],
                inputs: [("a", .float32, [3, 2])], outputs: ["y"], initializers: ["b": Self.random([3, 4], seed: 7)]),
            opset: 13, feeds: ["a": a], mentioning: "Gemm with transA = 1 is not supported; only transA = 0")
        // ReduceMean on rank 3.
        Self.expectRefusal(
            Self.graph(
                [Node(name: "m", opType: "ReduceMean", inputs: ["x"], outputs: ["y"], attributes: ["axes": .ints([1])])],
                inputs: [("x", .float32, [2, 3, 4])], outputs: ["y"]),
            opset: 13, feeds: ["x": Self.random([2, 3, 4], seed: 8)], mentioning: "only the spatial mean")
        // MatMul with a rank-3 B.
        Self.expectRefusal(
            Self.graph(
                [Node(name: "mm", opType: "MatMul", inputs: ["a", "b"], outputs: ["y"])],
                inputs: [("a", .float32, [3, 2])], outputs: ["y"], initializers: ["b": Self.random([2, 2, 4], seed: 9)]),
            opset: 13, feeds: ["a": a], mentioning: "only a 2-D constant B")
        // Dropout's mask output.
        Self.expectRefusal(
            Self.graph(
                [Node(name: "d", opType: "Dropout", inputs: ["x"], outputs: ["y", "mask"])],
                inputs: [("x", .float32, [2, 3, 4, 5])], outputs: ["y", "mask"]),
            opset: 13, feeds: ["x": x4], mentioning: "only its data output")
    }

    /// A graph output known before running (a constant) is returned as it is.
    @Test func constantGraphOutputIsReturned() throws {
        let t = Self.random([2, 3], seed: 10)
        let g = Self.graph(
            [
                Node(name: "k", opType: "Constant", inputs: [], outputs: ["k"], attributes: ["value": .tensor(t)]),
                Node(name: "r", opType: "Relu", inputs: ["x"], outputs: ["y"]),
            ], inputs: [("x", .float32, [2])], outputs: ["k", "y"])
        let out = try InferenceSession(graph: g, opset: 13, threads: 1).run(["x": Tensor(shape: [2], floats: [-1, 2])])
        #expect(out["k"] == t)
        #expect(out["y"]?.floats == [0, 2])
    }
}
