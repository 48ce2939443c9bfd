import Foundation
import IR
import Testing

@testable import Runtime

/// A session holds each weight once: packed forms are cached for all its plans and originals are released once
/// packed (`SessionWeights`), while constants read for anything else stay.
@Suite struct SessionWeightsTests {
    /// Every initializer of the miniature network feeds a packed form (convolutions, blocks, SE, classifier), so
    /// all are released by the first plan; a plan for another batch size then reuses the packed forms — it makes
    /// no weight buffers, only its arena and scratch — and still matches the float64 reference (tolerance as in
    /// `SessionTests.miniNetworkMatchesReference`).
    @Test func packedWeightsReleaseTheOriginalsAndServeEveryPlan() throws {
        let graph = miniEfficientNet(seed: 7)
        let names = graph.initializers.keys.sorted()
        let before = FloatBuffer.allocationsOnThisThread
        let session = try InferenceSession(graph: graph, opset: 17, threads: 1)
        let firstPlan = FloatBuffer.allocationsOnThisThread - before
        for name in names { #expect(session.weights.isReleased(name), "\(name)") }

        var rng = SeededGenerator(seed: 8)
        let three = Tensor(shape: [3, 3, 33, 31], floats: rng.floats(3 * 3 * 33 * 31, in: -2...2))
        let start = FloatBuffer.allocationsOnThisThread
        let out = try session.run(["input": three])
        let secondPlan = FloatBuffer.allocationsOnThisThread - start
        #expect(secondPlan > 0 && secondPlan < firstPlan / 2, "first plan \(firstPlan) buffers, second \(secondPlan)")
        let ref = NCHWEvaluator(graph: graph).run(["input": three])
        for name in graph.outputs.map(\.name) {
            #expect(compare(out[name]!, ref[name]!, atol: 1e-4, rtol: 1e-3) <= 1, "output \(name)")
        }
    }

    /// Constants read as values — an Add operand copied into the arena, a Conv weight that is also added to an
    /// activation — stay with the session; a weight only packed goes.
    @Test func constantsReadAsValuesStay() throws {
        // 12 channels: `shared` (144 values) is too big for shape inference to carry as a known value.
        var g = GraphMaker(seed: 3)
        let w = g.weight([12, 4, 1, 1], fanIn: 4)
        let b = g.bias(12)
        let shared = g.weight([12, 12, 1, 1], fanIn: 12)
        let offset = g.bias(12)
        let offsetShaped = "offset12"
        g.initializers[offsetShaped] = g.initializers[offset]!.reshaped([1, 12, 1, 1])
        let c1 = g.node("Conv", ["x", w, b])
        let c2 = g.node("Conv", [c1, shared])
        let sum = g.node("Add", [c2, offsetShaped])
        let graph = g.graph(input: "x", shape: [1, 4, 5, 5], outputs: [sum])
        let flat = g.node("Flatten", [shared], ["axis": .int(0)])  // `shared` read as a value
        let withFlat = g.graph(input: "x", shape: [1, 4, 5, 5], outputs: [sum, flat])
        for (candidate, sharedStays) in [(graph, false), (withFlat, true)] {
            let session = try InferenceSession(graph: candidate, opset: 17, threads: 1)
            #expect(session.weights.isReleased(w) && session.weights.isReleased(b))
            #expect(!session.weights.isReleased(offsetShaped))
            #expect(session.weights.isReleased(shared) == !sharedStays)
        }
    }

    /// A weight read by two nodes is released after the second, and a later plan that needs an original in a
    /// form nobody cached gets `RuntimeError.releasedWeight`, naming the weight and the node.
    @Test func releaseWaitsForTheLastReader() throws {
        let conv1 = Node(name: "c1", opType: "Conv", inputs: ["x", "w"], outputs: ["y1"])
        let conv2 = Node(name: "c2", opType: "Conv", inputs: ["y1", "w"], outputs: ["y2"])
        let weights = SessionWeights(["w": Tensor(shape: [2, 2, 1, 1], floats: [1, 2, 3, 4])])
        var remaining = weights.readerCounts([conv1, conv2])
        #expect(remaining == ["w": 2])
        let key = SessionWeights.Key(kind: "test", names: ["w"])
        let packed: [Float] = try weights.prepared(key) { try weights.unpinned("w", node: conv1)!.floats }
        #expect(packed == [1, 2, 3, 4])
        weights.finished(conv1, remaining: &remaining)
        #expect(!weights.isReleased("w"))
        let again: [Float] = try weights.prepared(key) {
            Issue.record("packed twice")
            return []
        }
        #expect(again == packed)
        weights.finished(conv2, remaining: &remaining)
        #expect(weights.isReleased("w"))
        #expect(weights.shape("w") == [2, 2, 1, 1])
        #expect(throws: RuntimeError.releasedWeight("w", node: "c2")) {
            _ = try weights.prepared(SessionWeights.Key(kind: "other", names: ["w"])) {
                try weights.unpinned("w", node: conv2)
            }
        }
    }

    /// Forms made from plan-time constants (which can depend on the input shape) are made again for every plan.
    @Test func formsOfPlanTimeConstantsAreNotCached() throws {
        let weights = SessionWeights([:])
        var made = 0
        for _ in 0..<2 {
            let _: Int = try weights.prepared(SessionWeights.Key(kind: "test", names: ["folded"])) {
                made += 1
                return made
            }
        }
        #expect(made == 2)
    }
}
