import Testing

@testable import IR

/// Shape inference and constant evaluation against onnxruntime on every case of `fixtures/ops`.
@Suite struct OpFixtureTests {
    @Test func fixturesCoverEveryOperator() throws {
        let files = Set(OpFixtures.files)
        for op in OpSupport.onnxOps.union(OpSupport.effnetOps) {
            #expect(files.contains(op), "no fixture for \(op)")
        }
    }

    @Test func everySupportedOperatorHasADefinition() {
        for op in OpSupport.onnxOps {
            #expect(OperatorRegistry.definition(opType: op, domain: "") != nil, "\(op)")
        }
        for op in OpSupport.effnetOps {
            #expect(OperatorRegistry.definition(opType: op, domain: OpSupport.effnetDomain) != nil, "\(op)")
        }
    }

    /// Inferred dtype and shape of every output equal onnxruntime's actual output (exactly: all sizes are
    /// known in these cases).
    @Test(arguments: OpFixtures.files) func inferenceMatchesOnnxruntime(file: String) throws {
        for c in try OpFixtures.load(file) {
            let inferred = try ShapeInference.infer(c.graph, opset: c.opset)
            for (name, expected) in c.expected {
                let info = inferred.outputs.first { $0.name == name }
                #expect(info?.dtype == expected.dtype, "\(c) output \(name)")
                #expect(info?.shape == Shape(expected.shape), "\(c) output \(name): \(info?.shape?.text ?? "nil")")
            }
        }
    }

    /// Graphs made only of light ops evaluate, node by node through `ConstantEvaluator`, to onnxruntime's
    /// outputs within the case's tolerance (exact for integer and data-movement cases).
    @Test(arguments: OpFixtures.files) func constantEvaluationMatchesOnnxruntime(file: String) throws {
        for c in try OpFixtures.load(file) where c.graph.nodes.allSatisfy(ConstantEvaluator.canEvaluate) {
            var env = c.feeds.merging(c.graph.initializers) { a, _ in a }
            for node in try c.graph.sorted().nodes {
                let inputs = node.inputs.map { $0.isEmpty ? nil : env[$0] }
                let outputs = try ConstantEvaluator.evaluate(node: node, inputs: inputs, opset: c.opset)
                for (name, t) in zip(node.outputs, outputs) { env[name] = t }
            }
            for (name, expected) in c.expected {
                guard let actual = env[name] else {
                    Issue.record("\(c): no value for \(name)")
                    continue
                }
                let problem = OpFixtures.mismatch(actual, expected, rtol: c.rtol, atol: c.atol)
                #expect(problem == nil, "\(c) output \(name): \(problem ?? "")")
            }
        }
    }
}
