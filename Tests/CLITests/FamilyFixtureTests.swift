import Foundation
import Testing

/// The EfficientNet (V1) and EfficientNet-Lite fixtures (`fixtures/family`, made by
/// `tools/make_family_fixtures.py` from timm, torchvision and Keras): each file verifies against its framework's own
/// outputs at 1e-4 and `inspect` names its variant and prints its stage table.
@Suite struct FamilyFixtureTests {
    struct Case: CustomStringConvertible, Sendable {
        var id: String
        var file: String
        var variant: String
        var description: String { "\(id)/\(file)" }
    }

    static let cases: [Case] = {
        let root = EffnetProcess.fixture("family")
        let ids = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
        return ids.flatMap { id -> [Case] in
            guard let data = FileManager.default.contents(atPath: "\(root)/\(id)/meta.json"),
                let meta = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let variant = meta["variant"] as? String
            else { return [] }
            return ["checkpoint.npz", "model.weights.h5", "model.onnx"].filter {
                FileManager.default.fileExists(atPath: "\(root)/\(id)/\($0)")
            }.map { Case(id: id, file: $0, variant: variant) }
        }
    }()

    /// Every model the generator lists is there, each as its framework's ONNX export and as a checkpoint (the
    /// done-when matrix of README "EfficientNet (V1) and Lite": timm B0/B3/Lite0/Lite4, torchvision B0/B3, Keras B0/B3).
    @Test func everyModelIsThereAsExportAndCheckpoint() throws {
        let generator = try String(
            contentsOfFile: EffnetProcess.root.appendingPathComponent("tools/make_family_fixtures.py").path, encoding: .utf8)
        let listed = Set(
            generator.split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("    \""), line.contains("\": dict("), let end = line.dropFirst(5).firstIndex(of: "\"")
                else { return nil }
                return String(line[line.index(line.startIndex, offsetBy: 5)..<end])
            })
        #expect(listed.count >= 8, "\(listed)")
        #expect(Set(Self.cases.map(\.id)) == listed, "\(Self.cases)")
        for id in listed {
            let files = Self.cases.filter { $0.id == id }.map(\.file)
            #expect(files.contains("model.onnx") && files.count == 2, "\(id): \(files)")
        }
    }

    @Test(arguments: cases)
    func verifiesAgainstTheFrameworkAndShowsItsStages(_ c: Case) throws {
        let folder = EffnetProcess.fixture("family/\(c.id)")
        // Keras's outputs are softmax probabilities: atol 1e-6, rtol 1e-4 (README "Keras references").
        let v = try EffnetProcess.run(
            ["verify", "\(folder)/\(c.file)", "--reference", "\(folder)/io.npz", "--json"]
                + EffnetProcess.toleranceArguments(c.id))
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(v.stdout.utf8)) as? [String: Any])
        #expect(report["passed"] as? Bool == true)

        let i = try EffnetProcess.run(["inspect", "\(folder)/\(c.file)", "--json"])
        #expect(i.status == 0, "\(i.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(i.stdout.utf8)) as? [String: Any])
        // Every file names its architecture, the Keras ONNX exports too (Casts, NHWC Transposes and arithmetic
        // BatchNorm around every block: recognised once optimized). At reduced widths every B-variant (and every
        // Lite) is the same stage table at other multipliers: the family is what the weights can tell
        // (`tf_efficientnet_b…` / `tf_efficientnet_lite…` / torchvision's / Keras's `EfficientNetB…`).
        let architecture = try #require(doc["architecture"] as? String, "\(c): no architecture")
        #expect(architecture.hasPrefix(String(c.variant.dropLast())), "\(architecture)")
        let blocks = try #require(doc["blocks"] as? [[String: Any]])
        #expect(blocks.count == 7 && blocks.allSatisfy { $0["kind"] as? String == "mbconv" })
        let lite = c.variant.contains("lite")
        #expect(blocks.allSatisfy { ($0["se_ratio"] == nil || $0["se_ratio"] is NSNull) == lite })
        // Stem, the seven one-block stages, head; kernels 3, 3, 5, 3, 5, 5, 3 as in the paper's B0.
        let stages = try #require(doc["stages"] as? [[String: Any]])
        #expect(stages.count == 9, "\(stages)")
        #expect(stages.dropFirst().prefix(7).map { ($0["operator"] as? String)?.contains("k5x5") == true } == [
            false, false, true, false, true, true, false,
        ])
    }

    /// An ONNX export and the checkpoint of the same model (same weights, same framework) name the same
    /// architecture, scheme and multipliers: `inspect` of the export, `inspect --no-optimize` of it (named from an
    /// optimized copy) and the first line of `convert`'s report.
    @Test(arguments: Set(cases.map(\.id)).sorted())
    func exportAndCheckpointNameTheSameArchitecture(_ id: String) throws {
        let folder = EffnetProcess.fixture("family/\(id)")
        let checkpoint = try #require(Self.cases.first { $0.id == id && $0.file != "model.onnx" })
        let fromCheckpoint = try EffnetProcess.run(["inspect", "\(folder)/\(checkpoint.file)", "--json"])
        let expected = try #require(fromCheckpoint.json?["architecture"] as? String, "\(fromCheckpoint.stderr)")
        for flags in [[], ["--no-optimize"]] {
            let export = try EffnetProcess.run(["inspect", "\(folder)/model.onnx", "--json"] + flags)
            #expect(export.json?["architecture"] as? String == expected, "\(id) \(flags): \(export.stdout)")
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("family-\(id)-\(UUID()).onnx").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let convert = try EffnetProcess.run(["convert", "\(folder)/model.onnx", "-o", out])
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect(convert.stdout.hasPrefix("\(folder)/model.onnx (onnx, \(expected)) → \(out)"), "\(convert.stdout)")
    }

    /// The reduced Keras EfficientNetV2-B0 as Keras 3's ONNX export and as the files other tools make of that export
    /// (`fixtures/exporters`, `tools/make_exporter_fixtures.py`): each names the Keras architecture its source
    /// checkpoint is detected as, and that names the model the generator built (its meta `variant`, Keras's model
    /// name `efficientnetv2-b0` of `EfficientNetV2B0`), and prints the stage table.
    @Test(arguments: ["keras_export", "onnxslim", "ort_basic", "ort_extended"])
    func kerasV2ExportsNameTheirArchitecture(_ exporter: String) throws {
        let folder = EffnetProcess.fixture("exporters/\(exporter)")
        let meta = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder)/meta.json")))
                as? [String: Any])
        let source = try #require(meta["source"] as? String)  // fixtures/models/keras_efficientnetv2_b0
        let sourceMeta = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: EffnetProcess.root.appendingPathComponent("\(source)/meta.json")))
                as? [String: Any])
        let kerasName = try #require(sourceMeta["variant"] as? String)  // efficientnetv2-b0
        let suffix = try #require(kerasName.split(separator: "-").last)
        let application = "EfficientNetV2" + suffix.uppercased()
        let checkpoint = try EffnetProcess.run([
            "inspect", EffnetProcess.root.appendingPathComponent("\(source)/checkpoint.npz").path, "--json",
        ])
        let expected = try #require(checkpoint.json?["architecture"] as? String, "\(checkpoint.stderr)")
        #expect(expected.contains(application), "\(expected)")
        let i = try EffnetProcess.run(["inspect", "\(folder)/model.onnx", "--json"])
        #expect(i.status == 0, "\(i.stderr)")
        #expect(i.json?["architecture"] as? String == expected, "\(i.stdout)")
        let stages = try #require(i.json?["stages"] as? [[String: Any]])
        #expect(stages.count == 8, "\(stages)")  // stem, six stages, head
        let text = try EffnetProcess.run(["inspect", "\(folder)/model.onnx"])
        #expect(text.stdout.contains("\narchitecture: \(expected)\n"), "\(text.stdout)")
    }
}
