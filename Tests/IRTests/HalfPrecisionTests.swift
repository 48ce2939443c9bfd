import Testing

@testable import IR

/// `Graph.widenHalfPrecision`: float16 weights widen exactly, Cast pairs that only changed precision become
/// Identity, integer → half casts become integer → float32 casts, and a float32 graph is left untouched.
@Suite struct HalfPrecisionTests {
    @Test func castPairsAroundAHalfRegionBecomeIdentity() throws {
        let half = Tensor(dtype: .float16, shape: [2], values: [0.333251953125, -65504])
        var g = Graph(
            nodes: [
                Node(name: "in_cast", opType: "Cast", inputs: ["x"], outputs: ["x16"], attributes: ["to": .int(10)]),
                Node(name: "mul", opType: "Mul", inputs: ["x16", "w"], outputs: ["y16"]),
                Node(name: "shape", opType: "Shape", inputs: ["x16"], outputs: ["s"]),
                Node(name: "s_cast", opType: "Cast", inputs: ["s"], outputs: ["s16"], attributes: ["to": .int(10)]),
                Node(name: "out_cast", opType: "Cast", inputs: ["y16"], outputs: ["y"], attributes: ["to": .int(1)]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: Shape([2]))],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: Shape([2])), ValueInfo(name: "s16", dtype: .float16, shape: Shape([1]))],
            initializers: ["w": half])
        #expect(g.widenHalfPrecision(opset: 17) == .float16)
        #expect(g.initializers["w"] == Tensor(shape: [2], floats: [0.333251953125, -65504]))
        #expect(g.nodes.map(\.opType) == ["Identity", "Mul", "Shape", "Cast", "Identity"])
        #expect(g.nodes[3].int("to") == DType.float32.onnxCode)
        #expect(g.outputs[1].dtype == .float32)
    }

    @Test func bfloat16WeightsWidenExactly() throws {
        let w = Tensor(dtype: .bfloat16, shape: [3], values: [1, -0.5, 384])
        var g = Graph(
            nodes: [Node(name: "mul", opType: "Mul", inputs: ["x", "w"], outputs: ["y"])],
            inputs: [ValueInfo(name: "x", dtype: .bfloat16, shape: Shape([3]))],
            outputs: [ValueInfo(name: "y", dtype: .bfloat16, shape: Shape([3]))], initializers: ["w": w])
        #expect(g.widenHalfPrecision(opset: 17) == .bfloat16)
        #expect(g.initializers["w"] == Tensor(shape: [3], floats: [1, -0.5, 384]))
        #expect(g.inputs[0].dtype == .float32 && g.outputs[0].dtype == .float32)
    }

    @Test func floatGraphsAreUntouched() throws {
        var g = Graph(
            nodes: [Node(name: "c", opType: "Cast", inputs: ["x"], outputs: ["y"], attributes: ["to": .int(1)])],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: Shape([2]))],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: Shape([2]))])
        let before = g
        #expect(g.widenHalfPrecision(opset: 17) == nil)
        #expect(g == before)
    }

    @Test func halfOutputsRoundToTheirDeclaredType() throws {
        let g = Graph(
            nodes: [
                Node(name: "add", opType: "Add", inputs: ["x", "w"], outputs: ["y"]),
                Node(name: "up", opType: "Cast", inputs: ["y"], outputs: ["y32"], attributes: ["to": .int(1)]),
                Node(name: "neg", opType: "Neg", inputs: ["y32"], outputs: ["z"]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .bfloat16, shape: Shape([2]))],
            outputs: [
                ValueInfo(name: "y", dtype: .bfloat16, shape: Shape([2])),
                ValueInfo(name: "y32", dtype: .float32, shape: Shape([2])),
                ValueInfo(name: "z", dtype: .float32, shape: Shape([2])),
            ],
            initializers: ["w": Tensor(dtype: .bfloat16, shape: [2], values: [0.00390625, 0.005859375])])
        // y is declared bfloat16, y32 is a bfloat16 value made float32 by a Cast, z is computed in float32.
        #expect(g.halfPrecisionOutputs(opset: 17) == ["y": .bfloat16, "y32": .bfloat16])
        // 1 + 2^-8 is a tie (to even: 1); 1 + 3·2^-9 rounds up to 1 + 2^-7.
        let sums = Tensor(shape: [2], floats: [1.00390625, 1.005859375])
        #expect(sums.rounded(to: .bfloat16) == Tensor(shape: [2], floats: [1, 1.0078125]))
        #expect(Tensor(shape: [1], floats: [1 + 1.0 / 4096]).rounded(to: .float16) == Tensor(shape: [1], floats: [1]))
    }

    /// `widenToFloat32`, the loaders' one call: the half outputs (as before widening) and the dtype for a half graph;
    /// nil and no change for a float32 one, whose scan finds nothing (so no shape inference runs).
    @Test func widenToFloat32ReportsWhatTheGraphWas() throws {
        let w = Tensor(dtype: .bfloat16, shape: [2], values: [1, 2])
        var g = Graph(
            nodes: [
                Node(name: "add", opType: "Add", inputs: ["x", "w"], outputs: ["y"]),
                Node(name: "up", opType: "Cast", inputs: ["y"], outputs: ["y32"], attributes: ["to": .int(1)]),
            ],
            inputs: [ValueInfo(name: "x", dtype: .bfloat16, shape: Shape([2]))],
            outputs: [ValueInfo(name: "y32", dtype: .float32, shape: Shape([2]))], initializers: ["w": w])
        #expect(g.holdsHalfPrecision)
        #expect(g.widenToFloat32(opset: 17) == Graph.HalfPrecision(dtype: .bfloat16, outputs: ["y32": .bfloat16]))
        #expect(!g.holdsHalfPrecision && g.inputs[0].dtype == .float32)

        var plain = Graph(
            nodes: [Node(name: "c", opType: "Cast", inputs: ["x"], outputs: ["y"], attributes: ["to": .int(1)])],
            inputs: [ValueInfo(name: "x", dtype: .float32, shape: Shape([2]))],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: Shape([2]))])
        let before = plain
        #expect(!plain.holdsHalfPrecision)
        #expect(plain.widenToFloat32(opset: 17) == nil)
        #expect(plain == before)
        // Each place a half type can hide is found: a Cast target, an attribute tensor, a declared value type.
        var cast = plain
        cast.nodes[0].attributes["to"] = .int(DType.float16.onnxCode)
        var constant = plain
        constant.nodes.append(
            Node(name: "k", opType: "Constant", inputs: [], outputs: ["k"], attributes: ["value": .tensor(w)]))
        var info = plain
        info.valueInfo["y"] = ValueInfo(name: "y", dtype: .float16, shape: Shape([2]))
        #expect(cast.holdsHalfPrecision && constant.holdsHalfPrecision && info.holdsHalfPrecision)
    }
}
