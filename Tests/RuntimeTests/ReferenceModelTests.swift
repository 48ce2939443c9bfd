import Foundation
import IR
import Testing

@testable import Runtime

/// Whole exported models against onnxruntime, and the interpreter's speed. Off unless
/// `EFFNET_REFERENCE_MODEL_JSON` lists model JSON files (colon-separated) written by
/// `tools/make_op_fixtures.py --model MODEL.onnx OUT.json` (too big to commit). Run in a release build:
///
///     EFFNET_REFERENCE_MODEL_JSON=/tmp/v2s.json EFFNET_REFERENCE_REPEAT=3 \
///         swift test -c release -Xswiftc -enable-testing --filter ReferenceModelTests
///
/// Tolerance: random weights make activations large, so the error is measured against the output's scale:
/// max |actual − expected| ≤ 1e-4 · max |expected|, and cosine similarity ≥ 0.99999.
@Suite struct ReferenceModelTests {
    static let paths = (ProcessInfo.processInfo.environment["EFFNET_REFERENCE_MODEL_JSON"] ?? "")
        .split(separator: ":").map(String.init)

    @Test(.enabled(if: !paths.isEmpty)) func wholeModelsMatchOnnxruntime() throws {
        let repeats = Int(ProcessInfo.processInfo.environment["EFFNET_REFERENCE_REPEAT"] ?? "") ?? 1
        for path in Self.paths {
            let loadStart = Date()
            let c = try OpFixtures.load(url: URL(fileURLWithPath: path), file: path)[0]
            let loaded = Date().timeIntervalSince(loadStart)
            let initStart = Date()
            let interpreter = try ReferenceInterpreter(graph: c.graph, opset: c.opset)
            let initialized = Date().timeIntervalSince(initStart)
            var times = [Double]()
            var outputs = [String: Tensor]()
            for _ in 0..<repeats {
                let start = Date()
                outputs = try interpreter.run(c.feeds)
                times.append(Date().timeIntervalSince(start))
            }
            // Where the time goes: seconds per operator type, from the gaps between observed nodes.
            var perOp = [String: Double]()
            var last = Date()
            _ = try interpreter.run(c.feeds) { node, _ in
                let now = Date()
                perOp[node.opType, default: 0] += now.timeIntervalSince(last)
                last = now
            }
            let top = perOp.sorted { $0.value > $1.value }.prefix(6)
            print("  by op:", top.map { "\($0.key) \(String(format: "%.2f", $0.value)) s" }.joined(separator: ", "))
            for (name, expected) in c.expected {
                guard let actual = outputs[name] else {
                    Issue.record("\(path): no output \(name)")
                    continue
                }
                #expect(actual.shape == expected.shape)
                let a = actual.doubles
                let e = expected.doubles
                let maxAbs = zip(a, e).map { abs($0 - $1) }.max() ?? 0
                let scale = e.map(abs).max() ?? 0
                let dot = zip(a, e).map(*).reduce(0, +)
                let cosine =
                    dot
                    / ((a.map { $0 * $0 }.reduce(0, +)).squareRoot() * (e.map { $0 * $0 }.reduce(0, +)).squareRoot())
                let timing = times.map { String(format: "%.2f", $0) }.joined(separator: ", ")
                print(
                    "\(URL(fileURLWithPath: path).lastPathComponent): \(c.graph.nodes.count) nodes,",
                    "load \(String(format: "%.1f", loaded)) s, init \(String(format: "%.2f", initialized)) s,",
                    "run min \(String(format: "%.2f", times.min()!)) s of [\(timing)];",
                    "output \(name) max|err| \(maxAbs) (max|e| \(scale)), cosine \(cosine)")
                #expect(maxAbs <= 1e-4 * scale, "\(path) \(name)")
                #expect(cosine >= 0.99999, "\(path) \(name)")
            }
        }
    }
}
