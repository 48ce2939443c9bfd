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

    @Test func everyModelIsThere() {
        #expect(Set(Self.cases.map(\.id)).count == 7, "\(Self.cases)")
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
        // effnet names the architecture of an ONNX file from the graph as read, and a Keras ONNX export (Casts,
        // Transposes, arithmetic BatchNorm) is recognised only after optimization: its stage table is still checked.
        if !(c.id.hasPrefix("keras") && c.file.hasSuffix(".onnx")) {
            let architecture = try #require(doc["architecture"] as? String, "\(c): no architecture")
            // At reduced widths every B-variant (and every Lite) is the same stage table at other multipliers: the
            // family is what the weights can tell (`tf_efficientnet_b…` / `tf_efficientnet_lite…` / torchvision's /
            // Keras's `EfficientNetB…`).
            #expect(architecture.hasPrefix(String(c.variant.dropLast())), "\(architecture)")
        }
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
}
