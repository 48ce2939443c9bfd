import Testing

@testable import IR

/// Shape inference on hand-built graphs: the `tf_` dynamic SAME-padding chain, dynamic batch propagation,
/// symbolic sizes and the errors that must name their node.
@Suite struct ShapeInferenceTests {
    /// A `tf_`-style stem: SAME padding computed from `Shape(x)` in float, `F.pad`'s torch → ONNX pads
    /// shuffle, `Pad`, then a 3×3 stride-2 convolution with no padding of its own.
    static func tfStem(input: Shape) -> Graph {
        var b = GraphBuilder()
        let (top, bottom) = b.samePad("x", axis: 2, kernel: 3, stride: 2)
        let (left, right) = b.samePad("x", axis: 3, kernel: 3, stride: 2)
        let (padded, _) = b.torchPad("x", rank: 4, torchPads: [left, right, top, bottom])
        let w = b.constant(Tensor(shape: [8, 3, 3, 3], floats: [Float](repeating: 0.1, count: 216)), name: "w")
        b.add("Conv", [padded, w], name: "conv", ["strides": .ints([2, 2]), "kernel_shape": .ints([3, 3])])
        return b.graph(inputs: [ValueInfo(name: "x", dtype: .float32, shape: input)], outputs: ["conv_out"])
    }

    static func padsInput(_ g: Graph) -> String { g.nodes.first { $0.opType == "Pad" }!.inputs[1] }

    @Test func tfSamePaddingResolvesForAStaticSize() throws {
        // H = 8: out 4, total pad (4−1)·2 + 3 − 8 = 1 → top 0, bottom 1. W = 11: out 6, pad 2 → 1 and 1.
        let g = Self.tfStem(input: [1, 3, 8, 11])
        let a = try ShapeInference.analyze(g, opset: 13)
        #expect(a.constants[Self.padsInput(g)]?.int64s == [0, 0, 0, 1, 0, 0, 1, 1])
        #expect(a.graph.valueInfo["pad_out"]?.shape == [1, 3, 9, 13])
        #expect(a.graph.outputs[0].shape == [1, 8, 4, 6])
        #expect(a.graph.outputs[0].dtype == .float32)
    }

    @Test func tfSamePaddingResolvesWithADynamicBatch() throws {
        // Shape(x) is [N,3,8,11] element-wise: Gather(…, 2) is the constant 8 although Shape(x) is not constant.
        let g = Self.tfStem(input: [.symbol("N"), 3, 8, 11])
        let a = try ShapeInference.analyze(g, opset: 13)
        #expect(a.constants[Self.padsInput(g)]?.int64s == [0, 0, 0, 1, 0, 0, 1, 1])
        #expect(a.graph.valueInfo["pad_out"]?.shape == [.symbol("N"), 3, 9, 13])
        #expect(a.graph.outputs[0].shape == [.symbol("N"), 8, 4, 6])
    }

    @Test func tfSamePaddingStaysUnknownForASymbolicSize() throws {
        let g = Self.tfStem(input: [.symbol("N"), 3, .symbol("H"), .symbol("W")])
        let a = try ShapeInference.analyze(g, opset: 13)
        #expect(a.constants[Self.padsInput(g)] == nil)
        // The batch and channel pads are still known to be 0, so N and 3 survive the Pad.
        #expect(a.facts[Self.padsInput(g)]?.knownElements == [0, 0, .unknown, .unknown, 0, 0, .unknown, .unknown])
        #expect(a.graph.valueInfo["pad_out"]?.shape == [.symbol("N"), 3, .unknown, .unknown])
        #expect(a.graph.outputs[0].shape == [.symbol("N"), 8, .unknown, .unknown])
    }

    @Test func realTfExportResolvesAndDegrades() throws {
        // The timm export in fixtures/ops/TFSamePadding.json, first with its static size, then with symbols.
        for c in try OpFixtures.load("TFSamePadding") {
            let expected = c.expected[0].1.shape
            var g = c.graph
            let known = try ShapeInference.infer(g, opset: c.opset)
            #expect(known.outputs[0].shape == Shape(expected), "\(c)")
            g.inputs[0].shape = [.symbol("N"), .known(g.inputs[0].shape![1].value!), .symbol("H"), .symbol("W")]
            let symbolic = try ShapeInference.infer(g, opset: c.opset)
            #expect(symbolic.outputs[0].shape == [.symbol("N"), .known(expected[1]), .unknown, .unknown], "\(c)")
        }
    }

    @Test func dynamicBatchFlowsThroughAClassifier() throws {
        var b = GraphBuilder()
        let conv = b.add(
            "Conv",
            [
                "x", b.constant(Tensor.zeros(.float32, shape: [16, 3, 3, 3])),
                b.constant(Tensor.zeros(.float32, shape: [16])),
            ],
            ["pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])])
        let bnParams = (0..<4).map { _ in b.constant(Tensor(shape: [16], floats: [Float](repeating: 1, count: 16))) }
        let bn = b.add("BatchNormalization", [conv] + bnParams)
        let act = b.add("HardSwish", [bn])
        let pooled = b.add("GlobalAveragePool", [act])
        // torch's x.view(x.size(0), -1): Shape → Gather(0) → Unsqueeze → Concat with −1 → Reshape.
        let n = b.add("Gather", [b.add("Shape", [pooled]), b.scalar(0)], ["axis": .int(0)])
        let target = b.add("Concat", [b.add("Unsqueeze", [n, b.ints([0])]), b.ints([-1])], ["axis": .int(0)])
        let flat = b.add("Reshape", [pooled, target])
        let logits = b.add(
            "Gemm",
            [
                flat, b.constant(Tensor.zeros(.float32, shape: [10, 16])),
                b.constant(Tensor.zeros(.float32, shape: [10])),
            ],
            ["transB": .int(1)])
        let probs = b.add("Softmax", [logits], ["axis": .int(1)])
        let g = b.graph(
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [.symbol("N"), 3, 17, 17])], outputs: [probs])
        let a = try ShapeInference.analyze(g, opset: 14)
        #expect(a.graph.valueInfo[conv]?.shape == [.symbol("N"), 16, 9, 9])
        #expect(a.graph.valueInfo[pooled]?.shape == [.symbol("N"), 16, 1, 1])
        #expect(a.facts[target]?.knownElements == [.symbol("N"), -1])
        #expect(a.graph.valueInfo[flat]?.shape == [.symbol("N"), 16])
        #expect(a.graph.outputs[0].shape == [.symbol("N"), 10])
        #expect(a.graph.outputs[0].dtype == .float32)
    }

    @Test func symbolsSurviveSizePreservingOps() throws {
        var b = GraphBuilder()
        let w = b.constant(Tensor.zeros(.float32, shape: [4, 4, 3, 3]))
        let same = b.add("Conv", ["x", w], ["pads": .ints([1, 1, 1, 1])])
        let upper = b.add("Conv", [same, w], ["auto_pad": .string("SAME_UPPER")])
        let strided = b.add("Conv", [upper, w], ["auto_pad": .string("SAME_UPPER"), "strides": .ints([2, 2])])
        let sum = b.add("Add", [same, upper])
        let scaled = b.add("Mul", [sum, b.constant(Tensor.zeros(.float32, shape: [4, 1, 1]))])
        let flat = b.add("Flatten", [scaled], ["axis": .int(1)])
        let reshaped = b.add("Reshape", [scaled, b.ints([0, 4, -1])])
        let g = b.graph(
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: [.symbol("N"), 4, .symbol("H"), .symbol("W")])],
            outputs: [strided, flat, reshaped])
        let a = try ShapeInference.analyze(g, opset: 13)
        let nhw: Shape = [.symbol("N"), 4, .symbol("H"), .symbol("W")]
        #expect(a.graph.valueInfo[same]?.shape == nhw)
        #expect(a.graph.valueInfo[upper]?.shape == nhw)
        #expect(a.graph.valueInfo[strided]?.shape == [.symbol("N"), 4, .unknown, .unknown])
        #expect(a.graph.valueInfo[scaled]?.shape == nhw)
        #expect(a.graph.valueInfo[flat]?.shape == [.symbol("N"), .unknown])
        #expect(a.graph.valueInfo[reshaped]?.shape == [.symbol("N"), 4, .unknown])
    }

    @Test func reshapeCancelsSymbols() throws {
        let n: Dim = .symbol("N")
        let node = Node(name: "r", opType: "Reshape", inputs: [], outputs: [])
        #expect(try ReshapeOp.resolve([0, -1], input: [n, 1280, 1, 1], allowZero: false, node: node) == [n, 1280])
        #expect(try ReshapeOp.resolve([n, -1], input: [n, 1280, 1, 1], allowZero: false, node: node) == [n, 1280])
        #expect(try ReshapeOp.resolve([-1, 1280], input: [n, 1280, 1, 1], allowZero: false, node: node) == [n, 1280])
        #expect(try ReshapeOp.resolve([-1, 7], input: [n, 1280], allowZero: false, node: node) == [.unknown, 7])
        #expect(throws: IRError.self) {
            try ReshapeOp.resolve([-1, 7], input: [2, 1280], allowZero: false, node: node)
        }
        #expect(throws: IRError.self) { try ReshapeOp.resolve([-1, -1], input: [2, 3], allowZero: false, node: node) }
    }

    @Test func fusedBlockTypesComeFromTheBody() throws {
        let c = try OpFixtures.load("MBConv")[0]
        var g = c.graph
        g.inputs[0].shape = [.symbol("N"), 4, 6, 6]
        let inferred = try ShapeInference.infer(g, opset: c.opset)
        #expect(inferred.outputs[0].shape == [.symbol("N"), 4, 6, 6])
        #expect(inferred.outputs[0].dtype == .float32)
    }

    @Test func declaredTypesFillUnknownsAndConflictsFail() throws {
        var b = GraphBuilder()
        let y = b.add("Relu", ["x"], name: "relu")
        var g = b.graph(inputs: [ValueInfo(name: "x", dtype: .float32, shape: [.unknown, 3])], outputs: [y])
        g.outputs[0] = ValueInfo(name: y, dtype: .float32, shape: [.symbol("batch"), 3])
        #expect(try ShapeInference.infer(g, opset: 13).outputs[0].shape == [.symbol("batch"), 3])
        g.outputs[0] = ValueInfo(name: y, dtype: .float32, shape: [1, 4])
        #expect(throws: IRError.self) { try ShapeInference.infer(g, opset: 13) }
    }
}

/// Contradictions found by inference are `IRError.invalidNode` naming the node (or `unsupportedOps`).
@Suite struct ShapeInferenceErrorTests {
    /// The name of the node an inference error blames, or nil when it is another error.
    static func blamedNode(_ body: () throws -> Void) -> String? {
        do {
            try body()
        } catch let IRError.invalidNode(node, _) {
            return node
        } catch {
            return nil
        }
        return nil
    }

    static func single(
        _ op: String, inputs: [(String, DType, Shape)], constants: [String: Tensor] = [:],
        _ attributes: [String: Attribute] = [:], opset: Int = 13
    ) -> Graph {
        Graph(
            nodes: [
                Node(
                    name: "bad", opType: op, inputs: inputs.map(\.0) + constants.keys.sorted(), outputs: ["y"],
                    attributes: attributes)
            ],
            inputs: inputs.map { ValueInfo(name: $0.0, dtype: $0.1, shape: $0.2) },
            outputs: [ValueInfo(name: "y", dtype: nil, shape: nil)], initializers: constants)
    }

    @Test func convChannelMismatch() {
        let g = Self.single("Conv", inputs: [("x", .float32, [1, 3, 8, 8]), ("w", .float32, [4, 5, 3, 3])])
        #expect(Self.blamedNode { _ = try ShapeInference.infer(g, opset: 13) } == "bad")
    }

    @Test func convGroupMismatchAndBadBias() {
        let grouped = Self.single(
            "Conv", inputs: [("x", .float32, [1, 6, 8, 8]), ("w", .float32, [4, 2, 3, 3])], ["group": .int(2)])
        #expect(Self.blamedNode { _ = try ShapeInference.infer(grouped, opset: 13) } == "bad")
        let bias = Self.single(
            "Conv", inputs: [("x", .float32, [1, 3, 8, 8]), ("w", .float32, [4, 3, 3, 3]), ("b", .float32, [5])])
        #expect(Self.blamedNode { _ = try ShapeInference.infer(bias, opset: 13) } == "bad")
    }

    @Test func kernelLargerThanInput() {
        let g = Self.single("Conv", inputs: [("x", .float32, [1, 3, 2, 2]), ("w", .float32, [4, 3, 3, 3])])
        #expect(Self.blamedNode { _ = try ShapeInference.infer(g, opset: 13) } == "bad")
    }

    @Test func badBroadcast() {
        let g = Self.single("Add", inputs: [("a", .float32, [2, 3]), ("b", .float32, [4])])
        #expect(Self.blamedNode { _ = try ShapeInference.infer(g, opset: 13) } == "bad")
        let types = Self.single("Mul", inputs: [("a", .float32, [2, 3]), ("b", .int64, [3])])
        #expect(Self.blamedNode { _ = try ShapeInference.infer(types, opset: 13) } == "bad")
    }

    @Test func impossibleReshape() {
        let g = Self.single(
            "Reshape", inputs: [("a", .float32, [7])], constants: ["s": Tensor(shape: [2], int64s: [2, -1])])
        #expect(Self.blamedNode { _ = try ShapeInference.infer(g, opset: 13) } == "bad")
    }

    @Test func matMulInnerMismatch() {
        let g = Self.single("MatMul", inputs: [("a", .float32, [2, 3]), ("b", .float32, [4, 5])])
        #expect(Self.blamedNode { _ = try ShapeInference.infer(g, opset: 13) } == "bad")
        let gemm = Self.single(
            "Gemm", inputs: [("a", .float32, [2, 3]), ("b", .float32, [5, 4])], ["transB": .int(1)])
        #expect(Self.blamedNode { _ = try ShapeInference.infer(gemm, opset: 13) } == "bad")
    }

    @Test func concatMismatch() {
        let g = Self.single("Concat", inputs: [("a", .float32, [2, 3]), ("b", .float32, [3, 3])], ["axis": .int(1)])
        #expect(Self.blamedNode { _ = try ShapeInference.infer(g, opset: 13) } == "bad")
    }

    @Test func gatherIndexOutOfRange() {
        let g = Self.single("Gather", inputs: [("a", .float32, [4, 2])], constants: ["i": Tensor.scalar(Int64(4))])
        #expect(Self.blamedNode { _ = try ShapeInference.infer(g, opset: 13) } == "bad")
    }

    @Test func wrongPadCount() {
        let g = Self.single(
            "Pad", inputs: [("a", .float32, [4, 2])], constants: ["p": Tensor(shape: [2], int64s: [1, 1])])
        #expect(Self.blamedNode { _ = try ShapeInference.infer(g, opset: 13) } == "bad")
    }

    @Test func unsupportedOperatorsAreListed() {
        let g = Self.single("NonMaxSuppression", inputs: [("a", .float32, [4, 2])])
        #expect(throws: IRError.unsupportedOps([.init(opType: "NonMaxSuppression", domain: "", node: "bad")])) {
            try ShapeInference.infer(g, opset: 13)
        }
    }

    @Test func fusedBodyErrorsNameTheFusedNode() throws {
        var c = try OpFixtures.load("MBConv")[0]
        c.graph.inputs[0].shape = [1, 5, 6, 6]  // the expand conv wants 4 channels
        #expect(Self.blamedNode { _ = try ShapeInference.infer(c.graph, opset: c.opset) } == c.graph.nodes[0].label)
    }
}

@Suite struct ReshapeEdgeTests {
    @Test func zeroSizedReshapes() throws {
        let node = Node(name: "r", opType: "Reshape", inputs: [], outputs: [])
        // [0,3] → [0,−1] leaves −1 ambiguous; with allowzero the 0 is literal and −1 is forbidden beside it.
        #expect(throws: IRError.self) { try ReshapeOp.resolve([0, -1], input: [0, 3], allowZero: false, node: node) }
        #expect(try ReshapeOp.resolve([3, 0], input: [0, 3], allowZero: true, node: node) == [3, 0])
        #expect(
            try ReshapeOp.resolve([-1, 0], input: [.symbol("N"), 0], allowZero: false, node: node) == [.unknown, 0])
    }
}
