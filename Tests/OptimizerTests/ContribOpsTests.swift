@testable import Formats
import Foundation
import IR
import Runtime
import Testing

/// onnxruntime's `com.microsoft` operators as the ONNX reader expands them, evaluated by the reference interpreter
/// against their definitions (onnxruntime's contrib op docs): QuickGelu(x) = x·σ(α·x); FusedConv = act(Conv + Z).
/// Tolerance 1e-6: float32 rounding of one sigmoid and one product.
@Suite struct ContribOpsTests {
    @Test(arguments: [Float(1), Float(1.702)])
    func quickGeluIsXTimesSigmoidOfAlphaX(alpha: Float) throws {
        let node = Node(
            name: "qg", opType: "QuickGelu", domain: "com.microsoft", inputs: ["x"], outputs: ["y"],
            attributes: ["alpha": .float(alpha)])
        let nodes = ContribOps.expand([node])
        #expect(nodes.allSatisfy { $0.domain.isEmpty })
        if alpha == 1 { #expect(nodes.map(\.opType) == ["Sigmoid", "Mul"]) }
        let values: [Float] = [-8, -2.5, -1, -0.25, 0, 0.3, 1, 2.75, 9]
        let graph = Graph(
            nodes: nodes, inputs: [ValueInfo(name: "x", dtype: .float32, shape: [9])],
            outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)])
        let y = try ReferenceInterpreter(graph: graph, opset: 17).run(["x": Tensor(shape: [9], floats: values)])["y"]!
        for (x, v) in zip(values, y.floats) {
            let expected = Double(x) / (1 + exp(-Double(alpha) * Double(x)))
            #expect(abs(Double(v) - expected) <= 1e-6 * max(1, abs(expected)), "x = \(x): \(v) vs \(expected)")
        }
    }

    @Test func fusedConvWithSumAndClipIsConvAddClip() throws {
        var seed: UInt64 = 21
        let fused = Node(
            name: "fc", opType: "FusedConv", domain: "com.microsoft", inputs: ["x", "w", "b", "z"], outputs: ["y"],
            attributes: [
                "kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1]), "activation": .string("Clip"),
                "activation_params": .floats([0, 0.5]),
            ])
        let nodes = ContribOps.expand([fused])
        #expect(nodes.map(\.opType) == ["Conv", "Add", "Constant", "Constant", "Clip"])
        let reference = [
            Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"],
                 attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])]),
            Node(name: "add", opType: "Add", inputs: ["c", "z"], outputs: ["s"]),
            Node(name: "clip", opType: "Relu", inputs: ["s"], outputs: ["r"]),
        ]
        let inits = [
            "w": PassUnitTests.random([4, 2, 3, 3], seed: &seed), "b": PassUnitTests.random([4], seed: &seed),
        ]
        let x = PassUnitTests.random([1, 2, 5, 5], seed: &seed)
        let z = PassUnitTests.random([1, 4, 5, 5], seed: &seed)
        let inputs = [
            ValueInfo(name: "x", dtype: .float32, shape: [1, 2, 5, 5]),
            ValueInfo(name: "z", dtype: .float32, shape: [1, 4, 5, 5]),
        ]
        let expanded = Graph(
            nodes: nodes, inputs: inputs, outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)],
            initializers: inits)
        let plain = Graph(
            nodes: reference, inputs: inputs, outputs: [ValueInfo(name: "r", dtype: .float32, shape: nil)],
            initializers: inits)
        let y = try ReferenceInterpreter(graph: expanded, opset: 17).run(["x": x, "z": z])["y"]!
        let r = try ReferenceInterpreter(graph: plain, opset: 17).run(["x": x, "z": z])["r"]!
        // Clip(0, 0.5) = min(Relu(s), 0.5).
        let expected = Tensor(shape: r.shape, floats: r.floats.map { min($0, 0.5) })
        #expect(ModelFixtures.allClose(y, expected, atol: 1e-6, rtol: 1e-6))
        #expect(y.floats.contains(0.5) && y.floats.contains(0))
    }

    @Test func unknownActivationsAreLeftForTheSupportCheck() {
        let node = Node(
            name: "fc", opType: "FusedConv", domain: "com.microsoft", inputs: ["x", "w"], outputs: ["y"],
            attributes: ["activation": .string("Tanh")])
        #expect(ContribOps.expand([node]) == [node])
    }
}
