import IR
import Testing

@testable import Runtime

/// The reference interpreter against onnxruntime on every case of `fixtures/ops` (single ops, effnet's
/// fused ops through their bodies, and real timm `tf_` SAME-padding exports). Tolerance per case as the
/// generator states it: 1e-5 relative + 1e-5 absolute for float results (Double accumulation against
/// onnxruntime's float32 sums), exact for integer and data-movement results.
@Suite struct ReferenceOpTests {
    @Test func fixturesArePresent() {
        #expect(OpFixtures.files.count >= 38, "fixtures/ops is missing or incomplete: \(OpFixtures.directory.path)")
    }

    @Test(arguments: OpFixtures.files) func matchesOnnxruntime(file: String) throws {
        let cases = try OpFixtures.load(file)
        #expect(!cases.isEmpty)
        for c in cases {
            let interpreter = try ReferenceInterpreter(graph: c.graph, opset: c.opset)
            let outputs = try interpreter.run(c.feeds)
            for (name, expected) in c.expected {
                guard let actual = outputs[name] else {
                    Issue.record("\(c): no output \(name)")
                    continue
                }
                let problem = OpFixtures.mismatch(actual, expected, rtol: c.rtol, atol: c.atol)
                #expect(problem == nil, "\(c) output \(name): \(problem ?? "")")
            }
        }
    }
}
