import IR
import Testing

@testable import Runtime

/// Malformed graphs must fail with an error, never crash: every fixture case is mutated (integer attributes
/// set to small random values, including negative ones, inputs dropped, initializers replaced by random small
/// tensors) and run through shape inference
/// and the interpreter. A crash would kill the test process; thrown errors are the expected outcome.
@Suite struct ReferenceRobustnessTests {
    @Test(arguments: OpFixtures.files) func mutatedGraphsThrowInsteadOfCrashing(file: String) throws {
        var rng = SplitMix64(seed: UInt64(file.utf8.reduce(0) { $0 &* 31 &+ Int($1) }.magnitude))
        var outcomes = (ok: 0, failed: 0)
        for c in try OpFixtures.load(file) {
            for _ in 0..<24 {
                var g = c.graph
                let k = Int(rng.next() % UInt64(g.nodes.count))
                var node = g.nodes[k]
                switch rng.next() % 4 {
                case 3:
                    // An initializer of random small shape and values (shape vectors, axes, pads, weights).
                    guard let name = g.initializers.keys.sorted().randomElement(using: &rng) else { break }
                    let dtype = g.initializers[name]!.dtype
                    let shape = (0..<Int(rng.next() % 4)).map { _ in Int(rng.next() % 5) }
                    let values = (0..<shape.reduce(1, *)).map { _ in Double(Int(rng.next() % 9) - 3) }
                    g.initializers[name] = Tensor(dtype: dtype, shape: shape, values: values)
                case 0:
                    for (key, value) in node.attributes {
                        switch value {
                        case .int: node.attributes[key] = .int(Int(rng.next() % 9) - 3)
                        case .ints(let v): node.attributes[key] = .ints(v.map { _ in Int(rng.next() % 9) - 3 })
                        default: break
                        }
                    }
                case 1:
                    if !node.inputs.isEmpty { node.inputs[Int(rng.next() % UInt64(node.inputs.count))] = "" }
                default:
                    if !node.inputs.isEmpty { node.inputs.removeLast() }
                    node.attributes["axis"] = .int(Int(rng.next() % 9) - 4)
                }
                g.nodes[k] = node
                do {
                    _ = try ShapeInference.infer(g, opset: c.opset)
                    _ = try ReferenceInterpreter(graph: g, opset: c.opset).run(c.feeds)
                    outcomes.ok += 1
                } catch is IRError {
                    outcomes.failed += 1
                } catch is RuntimeError {
                    outcomes.failed += 1
                }
            }
        }
        #expect(outcomes.ok + outcomes.failed > 0)
    }
}
