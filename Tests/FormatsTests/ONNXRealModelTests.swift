import Foundation
import IR
import Testing

@testable import Formats

/// Read → write → read on real exports: every `.onnx` under `fixtures/models/` (made by the fixtures tool), plus
/// any files listed in `EFFNET_ONNX_EXTRA` (colon-separated, for local checks on larger models). With
/// `EFFNET_ONNX_KEEP=DIR` the written files stay in DIR for `tools/check_onnx.py`.
@Suite struct ONNXRealModelTests {
    static let models: [String] = {
        var found = [String]()
        let root = URL(fileURLWithPath: ONNXFixtures.root).deletingLastPathComponent().appendingPathComponent("models")
        if let walker = FileManager.default.enumerator(atPath: root.path) {
            for case let relative as String in walker where relative.hasSuffix(".onnx") {
                found.append(root.path + "/" + relative)
            }
        }
        let extra = ProcessInfo.processInfo.environment["EFFNET_ONNX_EXTRA"] ?? ""
        found += extra.split(separator: ":").map(String.init)
        return found.sorted()
    }()

    @Test(.enabled(if: !models.isEmpty, "no real models in fixtures/models or EFFNET_ONNX_EXTRA"), arguments: models)
    func roundTrip(path: String) throws {
        let original = try ONNXReader.read(contentsOf: path)
        #expect(!original.graph.initializers.isEmpty)
        let keep = ProcessInfo.processInfo.environment["EFFNET_ONNX_KEEP"]
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let stem = path.split(separator: "/").suffix(2).joined(separator: "_").replacingOccurrences(
            of: ".onnx", with: "")
        for external in [false, true] {
            let directory = keep ?? folder.path
            let out = directory + "/" + stem + (external ? "_external.onnx" : ".onnx")
            let options = ONNXWriteOptions(externalData: external, producerVersion: "test")
            try ONNXWriter.write(original, to: out, options: options)
            let back = try ONNXReader.read(contentsOf: out)
            #expect(back.graph == original.graph, "\(out)")
            #expect(back.opsets == original.opsets.filter { $0.key != "ai.onnx" }.merging(["": original.opset]) { $1 })
            #expect(back.metadata == original.metadata)
        }
    }
}
