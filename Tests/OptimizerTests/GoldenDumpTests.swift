import Foundation
import IR
import Optimizer
import Testing

/// The optimized graph of every fixture export, dumped as text and compared with the committed expectation in
/// `fixtures/golden/`. Regenerate with `tools/update-golden.sh` after an intended change and review the diff.
@Suite struct GoldenDumpTests {
    static let directory = ModelFixtures.root.appendingPathComponent("fixtures/golden")

    @Test(arguments: ModelFixtures.onnxFiles)
    func optimizedDumpMatchesGolden(_ file: String) throws {
        let (model, _, _) = try ModelFixtures.load(file)
        var graph = model.graph
        _ = try Pipeline.standard.run(&graph, context: PassContext(opset: model.opset))
        let dump = graph.dump() + "\n"
        let golden = Self.directory.appendingPathComponent(file.replacingOccurrences(of: "/", with: ".") + ".txt")
        if ProcessInfo.processInfo.environment["EFFNET_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try dump.write(to: golden, atomically: true, encoding: .utf8)
            return
        }
        let expected = try? String(contentsOf: golden, encoding: .utf8)
        #expect(expected != nil, "missing golden file \(golden.path); run tools/update-golden.sh")
        guard let expected else { return }
        if expected != dump {
            let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let b = dump.split(separator: "\n", omittingEmptySubsequences: false)
            let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
            Issue.record(
                """
                \(file): optimized graph differs from \(golden.lastPathComponent) at line \(first + 1):
                  golden: \(first < a.count ? String(a[first]) : "<end>")
                  now:    \(first < b.count ? String(b[first]) : "<end>")
                """)
        }
    }
}
