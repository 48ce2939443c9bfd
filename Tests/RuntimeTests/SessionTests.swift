import Foundation
import IR
import KernelCore
import Testing

@testable import Runtime

/// Builds small EfficientNetV2-shaped graphs with random, fan-in-scaled weights (activations stay O(1)).
struct GraphMaker {
    var rng: SeededGenerator
    var nodes = [Node]()
    var initializers = [String: Tensor]()
    var counter = 0

    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    mutating func weight(_ shape: [Int], fanIn: Int, gain: Double = 1.5) -> String {
        counter += 1
        let name = "w\(counter)"
        let bound = Float(gain / Double(fanIn).squareRoot())
        initializers[name] = Tensor(shape: shape, floats: rng.floats(shape.reduce(1, *), in: -bound...bound))
        return name
    }

    mutating func bias(_ n: Int) -> String {
        counter += 1
        initializers["b\(counter)"] = Tensor(shape: [n], floats: rng.floats(n, in: -0.2...0.2))
        return "b\(counter)"
    }

    mutating func node(_ op: String, _ inputs: [String], _ attrs: [String: Attribute] = [:], domain: String = "")
        -> String
    {
        counter += 1
        let out = "v\(counter)"
        nodes.append(
            Node(
                name: "\(op)_\(counter)", opType: op, domain: domain, inputs: inputs, outputs: [out], attributes: attrs)
        )
        return out
    }

    mutating func fusedConv(_ x: String, _ cin: Int, _ cout: Int, k: Int, s: Int, pads: [Int], act: String) -> String {
        let w = weight([cout, cin, k, k], fanIn: cin * k * k)
        let b = bias(cout)
        return node(
            "FusedConv", [x, w, b],
            [
                "kernel_shape": .ints([k, k]), "strides": .ints([s, s]), "pads": .ints(pads),
                "activation": .string(act),
            ], domain: "ai.effnet")
    }

    mutating func se(_ c: Int, _ r: Int) -> [String] {
        // Large gains so that the gate varies well away from sigmoid(0) and an SE error shows in the output.
        [weight([r, c, 1, 1], fanIn: c, gain: 12), bias(r), weight([c, r, 1, 1], fanIn: r, gain: 4), bias(c)]
    }

    mutating func fusedMBConv(
        _ x: String, _ cin: Int, _ cout: Int, expand: Int, k: Int, s: Int, pads: [Int], se seRatio: Int = 0,
        residual: Bool
    ) -> String {
        let mid = expand == 1 ? cout : cin * expand
        var inputs = [x, weight([mid, cin, k, k], fanIn: cin * k * k), bias(mid)]
        inputs += seRatio > 0 ? se(mid, max(1, cin / seRatio)) : ["", "", "", ""]
        inputs += expand == 1 ? ["", ""] : [weight([cout, mid, 1, 1], fanIn: mid), bias(cout)]
        return node(
            "FusedMBConv", inputs,
            [
                "kernel_shape": .ints([k, k]), "strides": .ints([s, s]), "pads": .ints(pads),
                "activation": .string("silu"),
                "se_activation": .string("silu"), "se_gate": .string("sigmoid"), "residual": .int(residual ? 1 : 0),
            ], domain: "ai.effnet")
    }

    mutating func mbConv(
        _ x: String, _ cin: Int, _ cout: Int, expand: Int, k: Int, s: Int, pads: [Int], residual: Bool,
        gate: String = "sigmoid", withSE: Bool = true, activation: String = "silu"
    ) -> String {
        let mid = cin * expand
        var inputs = [x]
        inputs += expand == 1 ? ["", ""] : [weight([mid, cin, 1, 1], fanIn: cin), bias(mid)]
        inputs += [weight([mid, 1, k, k], fanIn: k * k), bias(mid)]
        inputs += withSE ? se(mid, max(1, cin / 4)) : ["", "", "", ""]
        inputs += [weight([cout, mid, 1, 1], fanIn: mid), bias(cout)]
        return node(
            "MBConv", inputs,
            [
                "kernel_shape": .ints([k, k]), "strides": .ints([s, s]), "pads": .ints(pads),
                "activation": .string(activation),
                "se_activation": .string("silu"), "se_gate": .string(gate), "residual": .int(residual ? 1 : 0),
            ], domain: "ai.effnet")
    }

    func graph(input: String, shape: [Dim], outputs: [String]) -> Graph {
        Graph(
            nodes: nodes, inputs: [ValueInfo(name: input, dtype: .float32, shape: shape)],
            outputs: outputs.map { ValueInfo(name: $0, dtype: .float32, shape: nil) }, initializers: initializers)
    }
}

/// A miniature EfficientNetV2: stem, Fused-MBConv (e1 residual, e4 s2 with TF-SAME pads, e4 with SE), MBConv
/// (SE + residual, k5 s2 asymmetric, no-expand, hardsigmoid gate), a Fused-MBConv wide enough for Winograd, head,
/// pool, classifier, softmax.
func miniEfficientNet(seed: UInt64, classes: Int = 10, withBlockOutputs: Bool = false) -> Graph {
    var g = GraphMaker(seed: seed)
    var blocks = [String]()
    var x = g.fusedConv("input", 3, 16, k: 3, s: 2, pads: [0, 0, 1, 1], act: "silu")
    blocks.append(x)
    x = g.fusedMBConv(x, 16, 16, expand: 1, k: 3, s: 1, pads: [1, 1, 1, 1], residual: true)
    blocks.append(x)
    x = g.fusedMBConv(x, 16, 24, expand: 4, k: 3, s: 2, pads: [0, 0, 1, 1], residual: false)
    blocks.append(x)
    x = g.fusedMBConv(x, 24, 24, expand: 2, k: 3, s: 1, pads: [1, 1, 1, 1], se: 4, residual: true)
    blocks.append(x)
    x = g.mbConv(x, 24, 24, expand: 4, k: 3, s: 1, pads: [1, 1, 1, 1], residual: true)
    blocks.append(x)
    x = g.mbConv(x, 24, 41, expand: 3, k: 5, s: 2, pads: [1, 1, 2, 2], residual: false)
    blocks.append(x)
    x = g.mbConv(x, 41, 41, expand: 1, k: 3, s: 1, pads: [1, 1, 1, 1], residual: true, gate: "hardsigmoid")
    blocks.append(x)
    x = g.fusedMBConv(x, 41, 41, expand: 2, k: 3, s: 1, pads: [1, 1, 1, 1], residual: true)  // Winograd path
    blocks.append(x)
    x = g.fusedConv(x, 41, 48, k: 1, s: 1, pads: [0, 0, 0, 0], act: "silu")
    blocks.append(x)
    x = g.node("GlobalAveragePool", [x])
    x = g.node("Flatten", [x], ["axis": .int(1)])
    let fc = g.weight([classes, 48], fanIn: 48)
    let fcb = g.bias(classes)
    let logits = g.node("Gemm", [x, fc, fcb], ["transB": .int(1)])
    let probs = g.node("Softmax", [logits], ["axis": .int(-1)])
    return g.graph(
        input: "input", shape: [.symbol("N"), 3, 33, 31], outputs: [logits, probs] + (withBlockOutputs ? blocks : []))
}

func compare(_ got: Tensor, _ want: NCHWEvaluator.Value, atol: Double, rtol: Double) -> Double {
    #expect(got.shape == want.shape)
    return worstRatio(got.floats, want.data, scale: want.data.map { abs($0) }, atol: atol, rtol: rtol)
}

@Suite struct SessionTests {
    /// The whole miniature network against the float64 NCHW evaluator at batch 1 and 2, on 1 and 2 threads.
    /// Tolerance 1e-4 absolute + 1e-3 relative: about a dozen float32 layers, each with sums of ≤ 432 products
    /// and a fastExp-based SiLU (≈ 1e-6 relative), compound to ~1e-5 typical, 1e-4 worst observed.
    @Test(arguments: [(1, 1), (2, 1), (1, 2), (3, 2)])
    func miniNetworkMatchesReference(_ config: (Int, Int)) throws {
        let (batch, threads) = config
        let graph = miniEfficientNet(seed: 11, withBlockOutputs: true)
        var rng = SeededGenerator(seed: 5)
        let input = Tensor(shape: [batch, 3, 33, 31], floats: rng.floats(batch * 3 * 33 * 31, in: -2...2))
        let session = try InferenceSession(graph: graph, opset: 17, threads: threads)
        let out = try session.run(["input": input])
        let ref = NCHWEvaluator(graph: graph).run(["input": input])
        for name in graph.outputs.map(\.name) {
            #expect(compare(out[name]!, ref[name]!, atol: 1e-4, rtol: 1e-3) <= 1, "output \(name)")
        }
        // A second run with other data reuses the plan and gives fresh results.
        let input2 = Tensor(shape: [batch, 3, 33, 31], floats: rng.floats(batch * 3 * 33 * 31, in: -2...2))
        let out2 = try session.run(["input": input2])
        let ref2 = NCHWEvaluator(graph: graph).run(["input": input2])
        #expect(compare(out2[graph.outputs[0].name]!, ref2[graph.outputs[0].name]!, atol: 1e-4, rtol: 1e-3) <= 1)
    }

    /// Weights are packed when the session is made (a symbolic batch is planned as 1), and after a shape's plan
    /// exists an inference makes no runtime allocation: every buffer (arena, indirection tables, SE scratch, scaled
    /// weights, pipeline buffers) belongs to the plan. Counted through `FloatBuffer`, the one allocator of kernel
    /// memory, on this thread (a one-thread session runs every step on the caller's thread).
    @Test func steadyStateAllocatesNothing() throws {
        let graph = miniEfficientNet(seed: 3)
        var rng = SeededGenerator(seed: 9)
        let one = Tensor(shape: [1, 3, 33, 31], floats: rng.floats(3 * 33 * 31))
        let two = Tensor(shape: [2, 3, 33, 31], floats: rng.floats(2 * 3 * 33 * 31))
        let beforeInit = FloatBuffer.allocationsOnThisThread
        let session = try InferenceSession(graph: graph, opset: 17, threads: 1)
        let afterInit = FloatBuffer.allocationsOnThisThread
        #expect(afterInit > beforeInit)
        for _ in 0..<3 { _ = try session.run(["input": one]) }
        #expect(FloatBuffer.allocationsOnThisThread == afterInit)
        _ = try session.run(["input": two])  // a new shape: a new plan
        let afterSecondPlan = FloatBuffer.allocationsOnThisThread
        #expect(afterSecondPlan > afterInit)
        for _ in 0..<3 { _ = try session.run(["input": two]) }
        #expect(FloatBuffer.allocationsOnThisThread == afterSecondPlan)
    }

    /// Unfused ONNX ops around a plain Conv: SiLU as Sigmoid·Mul, SE as pool → convs → Sigmoid → broadcast Mul,
    /// residual Add, ReLU; then pool, Flatten, Gemm.
    @Test(arguments: [1, 2])
    func unfusedOpsMatchReference(_ threads: Int) throws {
        var g = GraphMaker(seed: 21)
        let w1 = g.weight([20, 5, 3, 3], fanIn: 45)
        let b1 = g.bias(20)
        let c = g.node(
            "Conv", ["x", w1, b1],
            ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1]), "strides": .ints([1, 1])])
        let s = g.node("Sigmoid", [c])
        let silu = g.node("Mul", [c, s])
        let pooled = g.node("GlobalAveragePool", [silu])
        let r = g.node("Conv", [pooled, g.weight([5, 20, 1, 1], fanIn: 20), g.bias(5)])
        let ra = g.node("Relu", [r])
        let e = g.node("Conv", [ra, g.weight([20, 5, 1, 1], fanIn: 5), g.bias(20)])
        let gate = g.node("Sigmoid", [e])
        let scaled = g.node("Mul", [silu, gate])
        let sum = g.node("Add", [scaled, c])
        let pooled2 = g.node("GlobalAveragePool", [sum])
        let flat = g.node("Flatten", [pooled2], ["axis": .int(1)])
        let logits = g.node("Gemm", [flat, g.weight([7, 20], fanIn: 20), g.bias(7)], ["transB": .int(1)])
        let graph = g.graph(input: "x", shape: [2, 5, 9, 8], outputs: [logits, sum])
        var rng = SeededGenerator(seed: 1)
        let x = Tensor(shape: [2, 5, 9, 8], floats: rng.floats(2 * 5 * 9 * 8))
        let out = try InferenceSession(graph: graph, opset: 17, threads: threads).run(["x": x])
        let ref = NCHWEvaluator(graph: graph).run(["x": x])
        for name in [logits, sum] { #expect(compare(out[name]!, ref[name]!, atol: 1e-5, rtol: 1e-4) <= 1, "\(name)") }
    }

    /// Depth-first FusedMBConv pipelines over many blocks (Winograd: 64 tiles a block; direct: 256 pixels a block),
    /// odd sizes, batch 2, with and without residual. Tolerance as in `miniNetworkMatchesReference`.
    @Test(arguments: [1, 2])
    func fusedPipelineBlocksMatchReference(_ threads: Int) throws {
        var g = GraphMaker(seed: 8)
        let a = g.fusedMBConv("x", 40, 40, expand: 2, k: 3, s: 1, pads: [1, 1, 1, 1], residual: true)  // Winograd
        let b = g.fusedMBConv(a, 40, 24, expand: 2, k: 3, s: 2, pads: [0, 0, 1, 1], residual: false)  // direct
        let graph = g.graph(input: "x", shape: [2, 40, 37, 35], outputs: [a, b])
        var rng = SeededGenerator(seed: 3)
        let x = Tensor(shape: [2, 40, 37, 35], floats: rng.floats(2 * 40 * 37 * 35))
        let out = try InferenceSession(graph: graph, opset: 17, threads: threads).run(["x": x])
        let ref = NCHWEvaluator(graph: graph).run(["x": x])
        for name in [a, b] { #expect(compare(out[name]!, ref[name]!, atol: 1e-4, rtol: 1e-3) <= 1, "\(name)") }
    }

    /// Depth-first MBConv (`MBConvPipeline`: expanded tensors of ≥ 256 K floats, bands of rows per worker): expand
    /// without SE (ReLU6, residual), expand with SE (k5 s2, asymmetric pads), and no expansion without SE; batch
    /// 2, odd sizes. Outputs match the reference and are bit-identical on one and two threads.
    @Test func depthFirstMBConvMatchesReference() throws {
        var g = GraphMaker(seed: 9)
        let a = g.mbConv("x", 16, 16, expand: 4, k: 3, s: 1, pads: [1, 1, 1, 1], residual: true, withSE: false,
            activation: "relu6")
        let b = g.mbConv(a, 16, 24, expand: 4, k: 5, s: 2, pads: [1, 1, 2, 2], residual: false)
        let c = g.mbConv(a, 16, 8, expand: 1, k: 3, s: 1, pads: [1, 1, 1, 1], residual: false, withSE: false)
        let shape = [2, 16, 131, 127]
        #expect(MBConvPipeline.applies(
            geometry: NHWCConvGeometry(batch: 2, inHeight: 131, inWidth: 127, inChannels: 64, outChannels: 64,
                kernel: (3, 3), pads: [1, 1, 1, 1]), expanded: true, threads: 2))
        #expect(MBConvPipeline.applies(
            geometry: NHWCConvGeometry(batch: 2, inHeight: 131, inWidth: 127, inChannels: 16, outChannels: 16,
                kernel: (3, 3), pads: [1, 1, 1, 1]), expanded: false, threads: 2))
        // EfficientNetV2-S's 24×24×640 expansion: depth-first on one thread; on two, its four chunks would expand
        // 6 of the 24 rows twice (1/4 > 1/8), so the block runs layer by layer.
        let v2s = NHWCConvGeometry(
            batch: 1, inHeight: 24, inWidth: 24, inChannels: 640, outChannels: 640, kernel: (3, 3), pads: [1, 1, 1, 1])
        #expect(MBConvPipeline.recomputedFraction(v2s, threads: 2) == 0.25)
        #expect(MBConvPipeline.applies(geometry: v2s, expanded: true, threads: 1))
        #expect(!MBConvPipeline.applies(geometry: v2s, expanded: true, threads: 2))
        let graph = g.graph(input: "x", shape: shape.map { Dim.known($0) }, outputs: [a, b, c])
        var rng = SeededGenerator(seed: 5)
        let x = Tensor(shape: shape, floats: rng.floats(shape.reduce(1, *)))
        let outs = try [1, 2].map { try InferenceSession(graph: graph, opset: 17, threads: $0).run(["x": x]) }
        let ref = NCHWEvaluator(graph: graph).run(["x": x])
        for name in [a, b, c] {
            #expect(compare(outs[0][name]!, ref[name]!, atol: 1e-4, rtol: 1e-3) <= 1, "\(name)")
            #expect(outs[0][name] == outs[1][name], "\(name)")
        }
    }

    /// Every element is computed by the same code in the same order whatever the thread count (GEMM tiles,
    /// Winograd tiles, depthwise rows, SE sums added in row order), so outputs are bit-identical on 1, 2 and 3
    /// threads even though chunks may be stolen.
    @Test func threadCountDoesNotChangeResults() throws {
        let graph = miniEfficientNet(seed: 17, withBlockOutputs: true)
        var rng = SeededGenerator(seed: 23)
        let input = Tensor(shape: [2, 3, 33, 31], floats: rng.floats(2 * 3 * 33 * 31, in: -2...2))
        let outs = try [1, 2, 3].map { try InferenceSession(graph: graph, opset: 17, threads: $0).run(["input": input]) }
        for name in graph.outputs.map(\.name) {
            #expect(outs[0][name] == outs[1][name] && outs[0][name] == outs[2][name], "\(name)")
        }
    }

    /// One session, batch sizes 1 → 3 → 1: each shape gets its own plan, and the first plan is reused unchanged.
    @Test func replansPerInputShape() throws {
        let graph = miniEfficientNet(seed: 2)
        let session = try InferenceSession(graph: graph, opset: 17, threads: 2)
        var rng = SeededGenerator(seed: 4)
        let one = Tensor(shape: [1, 3, 33, 31], floats: rng.floats(3 * 33 * 31))
        let three = Tensor(shape: [3, 3, 33, 31], floats: rng.floats(9 * 33 * 31))
        let first = try session.run(["input": one])
        let batched = try session.run(["input": three])
        let again = try session.run(["input": one])
        #expect(session.stepCounts.count == 2)  // batch 1 planned at init, batch 3 at its first run
        #expect(first == again)
        let name = graph.outputs[0].name
        #expect(batched[name]!.shape == [3, 10])
        let ref = NCHWEvaluator(graph: graph).run(["input": three])
        #expect(compare(batched[name]!, ref[name]!, atol: 1e-4, rtol: 1e-3) <= 1)
    }

    @Test func reportsMissingFeedAndUnsupportedOps() throws {
        let graph = miniEfficientNet(seed: 1)
        let session = try InferenceSession(graph: graph, opset: 17, threads: 1)
        #expect(throws: RuntimeError.missingInput("input", expected: ["input"])) { try session.run([:]) }
        let wrong = Tensor(shape: [1, 4, 33, 31], floats: [Float](repeating: 0, count: 4 * 33 * 31))
        #expect(throws: RuntimeError.self) { try session.run(["input": wrong]) }
        #expect(throws: RuntimeError.self) {
            try session.run(["input": Tensor(shape: [3, 33, 31], floats: [Float](repeating: 0, count: 3 * 33 * 31))])
        }
        var bad = graph
        bad.nodes[0].opType = "LSTM"
        #expect(throws: RuntimeError.self) { try InferenceSession(graph: bad, opset: 17, threads: 1) }
    }
}

@Suite struct FoldingTests {
    /// A timm `tf_`-style SAME-padding chain: Shape → Gather → Sub → Unsqueeze → Concat computes the pads at plan
    /// time, Pad runs on the activation, then a stride-2 Conv. Must equal one Conv with pads [0, 0, 1, 1].
    /// Tolerance 1e-5 absolute + 1e-4 relative (27-term float32 sums).
    @Test func samePaddingChainFoldsAndPads() throws {
        var g = GraphMaker(seed: 4)
        let w = g.weight([8, 3, 3, 3], fanIn: 27)
        let b = g.bias(8)
        g.initializers["two"] = Tensor(shape: [1], int64s: [2])
        g.initializers["eight"] = .scalar(Int64(8))
        g.initializers["zeros6"] = Tensor(shape: [6], int64s: [0, 0, 0, 0, 0, 0])
        let shape = g.node("Shape", ["x"])
        let h = g.node("Gather", [shape, "two"], ["axis": .int(0)])  // [9]
        let extra = g.node("Sub", [h, "eight"])  // [1]
        let pads = g.node("Concat", ["zeros6", extra, extra], ["axis": .int(0)])
        let padded = g.node("Pad", ["x", pads], ["mode": .string("constant")])
        let y = g.node("Conv", [padded, w, b], ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2])])
        let graph = g.graph(input: "x", shape: [1, 3, 9, 9], outputs: [y])
        var rng = SeededGenerator(seed: 2)
        let x = Tensor(shape: [1, 3, 9, 9], floats: rng.floats(243))
        let out = try InferenceSession(graph: graph, opset: 17, threads: 2).run(["x": x])[y]!
        let direct = Node(
            name: "c", opType: "Conv", inputs: ["x", w, b], outputs: ["y"],
            attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([0, 0, 1, 1])])
        let refGraph = Graph(
            nodes: [direct], inputs: graph.inputs, outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)],
            initializers: g.initializers)
        let ref = NCHWEvaluator(graph: refGraph).run(["x": x])["y"]!
        #expect(out.shape == [1, 8, 4, 4])
        #expect(compare(out, ref, atol: 1e-5, rtol: 1e-4) <= 1)
    }

    /// Shape ops on a non-constant value are refused with the node named, at plan time.
    @Test func nonConstantShapeOpIsRefused() throws {
        var g = GraphMaker(seed: 1)
        let c = g.node("Cast", ["x"], ["to": .int(7)])
        var graph = g.graph(input: "x", shape: [1, 2], outputs: [c])
        graph.outputs[0].dtype = nil
        #expect {
            _ = try InferenceSession(graph: graph, opset: 17, threads: 1)
        } throws: { error in
            "\(error)".contains("Cast_1") && "\(error)".contains("not supported")
        }
    }
}

@Suite struct MalformedGraphTests {
    /// Graph contents a file can carry that no kernel can run: each must be a `RuntimeError` (or, found by the
    /// IR's inference when the session is made, an `IRError`) naming the node, never a trap.
    @Test(arguments: 0..<8)
    func malformedNodesThrow(_ which: Int) {
        var g = GraphMaker(seed: 5)
        let w = g.weight([4, 3, 3, 3], fanIn: 27)
        g.initializers["bias3"] = Tensor(shape: [3], floats: [0, 0, 0])
        g.initializers["idx"] = Tensor(shape: [1], int64s: [9])
        g.initializers["empty"] = Tensor(shape: [0], floats: [])
        let out: String
        switch which {
        case 0: out = g.node("Conv", ["x", w], ["kernel_shape": .ints([3])])
        case 1: out = g.node("Conv", ["x", w, "bias3"])
        case 2: out = g.node("Conv", ["x", w], ["strides": .ints([0, 1])])
        case 3: out = g.node("Conv", ["x", w], ["pads": .ints([-1, 0, 0, 0])])
        case 4:
            let c = g.node("Conv", ["x", w])
            out = g.node("Softmax", [c], ["axis": .int(5)])
        case 5:
            let s = g.node("Shape", ["x"])
            out = g.node("Gather", [s, "idx"])
        case 6: out = g.node("Clip", ["x", "empty", "empty"])
        default:
            let c = g.node("Conv", ["x", w], ["kernel_shape": .ints([3, 3])])
            out = g.node("Conv", [c, g.weight([4, 4, 5, 5], fanIn: 100)])  // 5×5 kernel on a 1×2 map
        }
        let graph = g.graph(input: "x", shape: [1, 3, 3, 4], outputs: [out])
        do {
            let session = try InferenceSession(graph: graph, opset: 17, threads: 1)
            _ = try session.run(["x": Tensor(shape: [1, 3, 3, 4], floats: [Float](repeating: 1, count: 36))])
            // Clip with empty bounds is legal (no bound): it must run.
            #expect(which == 6, "case \(which) ran")
        } catch let error as RuntimeError {
            #expect(!error.description.isEmpty)
        } catch let error as IRError {
            #expect(!error.description.isEmpty)
        } catch {
            Issue.record("case \(which): unexpected error \(error)")
        }
    }
}
