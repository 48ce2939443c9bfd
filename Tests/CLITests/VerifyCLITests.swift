import Formats
import Foundation
import IR
import Testing

/// `effnet verify` on every fixture, against the framework's own outputs (the README's contract: exit 0 within
/// tolerance, 1 beyond it with the statistics, JSON fields as documented).
@Suite struct VerifyCLITests {
    @Test(arguments: EffnetProcess.onnxFixtures)
    func everyOnnxExportVerifies(_ file: String) throws {
        let id = String(file.split(separator: "/")[0])
        let r = try EffnetProcess.run(
            [
                "verify", EffnetProcess.fixture("models/" + file), "--reference",
                EffnetProcess.fixture("models/\(id)/io.npz"),
                "--json",
            ] + EffnetProcess.toleranceArguments(id))
        #expect(r.status == 0, "\(file): \(r.stderr)\(r.stdout)")
        let json = try #require(r.json)
        #expect(json["passed"] as? Bool == true)
        let outputs = try #require(json["outputs"] as? [[String: Any]])
        for key in ["max_abs", "max_rel", "mean_abs", "cosine", "top1_agree", "top5_overlap"] {
            #expect(outputs.first?[key] != nil, "missing \(key)")
        }
        #expect((json["checks"] as? [Any])?.count == 3)
    }

    @Test(arguments: EffnetProcess.modelIDs)
    func everyCheckpointVerifies(_ id: String) throws {
        let r = try EffnetProcess.run(
            [
                "verify", EffnetProcess.fixture("models/\(id)/checkpoint.npz"), "--reference",
                EffnetProcess.fixture("models/\(id)/io.npz"),
            ]
                + EffnetProcess.toleranceArguments(id) + EffnetProcess.archArguments(id))
        #expect(r.status == 0, "\(id): \(r.stderr)\(r.stdout)")
        #expect(r.stdout.contains("PASSED"))
    }

    /// A reference whose output is moved by 0.01 in one element fails with exit 1, names the element, and reports
    /// that the graph as read already disagrees (no optimizer pass or kernel is to blame).
    @Test func perturbedReferenceFails() throws {
        let id = "timm_tf_efficientnetv2_b0"
        var arrays = try NPZ.read(contentsOf: EffnetProcess.fixture("models/\(id)/io.npz"))
        let k = try #require(arrays.firstIndex { $0.name == "output" })
        var values = arrays[k].tensor.floats
        values[7] += 0.01
        arrays[k].tensor = Tensor(shape: arrays[k].tensor.shape, floats: values)
        let dir = try EffnetProcess.scratch()
        let perturbed = dir.appendingPathComponent("io.npz").path
        try NPZ.write(arrays, to: perturbed, compressed: false)
        let model = EffnetProcess.fixture("models/\(id)/torchscript.onnx")

        let text = try EffnetProcess.run(["verify", model, "--reference", perturbed, "--tolerance", "1e-4"])
        #expect(text.status == 1)
        #expect(text.stdout.contains("FAILED") && text.stdout.contains("max_abs") && text.stdout.contains("worst at 7"))

        let json = try EffnetProcess.run(["verify", model, "--reference", perturbed, "--tolerance", "1e-4", "--json"])
        #expect(json.status == 1)
        let doc = try #require(json.json)
        #expect(doc["passed"] as? Bool == false)
        let divergence = try #require(doc["first_divergence"] as? [String: Any])
        #expect(divergence["stage"] as? String == "import")
        let outputs = try #require(doc["outputs"] as? [[String: Any]])
        #expect(abs((outputs[0]["max_abs"] as? Double ?? 0) - 0.01) < 1e-4)
    }

    /// Without a reference, verify compares the native runtime with the interpreter on seeded random inputs.
    @Test func seededSelfCheck() throws {
        let r = try EffnetProcess.run([
            "verify", EffnetProcess.fixture("models/torchvision_efficientnet_v2_s/torchscript.onnx"), "--seed", "7",
        ])
        #expect(r.status == 0, "\(r.stderr)\(r.stdout)")
        #expect(r.stdout.contains("random inputs"))
    }

    @Test func conflictingToleranceOptionsAreUsageErrors() throws {
        let r = try EffnetProcess.run([
            "verify", EffnetProcess.fixture("models/timm_tf_efficientnetv2_b0/torchscript.onnx"), "--tolerance", "1e-4",
            "--atol", "1e-3",
        ])
        #expect(r.status == 2)
    }
}
