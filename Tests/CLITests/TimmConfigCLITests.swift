import Foundation
import Testing

/// A timm `config.json` beside the weights supplies the architecture and the preprocessing: `run` with the
/// config gives exactly what `run` without it gives when the same preprocessing is passed as flags, and a config
/// naming an architecture effnet does not know is reported with the config's path.
@Suite struct TimmConfigCLITests {
    static let weights = EffnetProcess.fixture("formats/timm_tf_efficientnetv2_b0/model.safetensors")

    func folder(config: String?) throws -> String {
        let dir = try EffnetProcess.scratch()
        try FileManager.default.copyItem(atPath: Self.weights, toPath: dir.appendingPathComponent("model.safetensors").path)
        if let config { try Data(config.utf8).write(to: dir.appendingPathComponent("config.json")) }
        return dir.appendingPathComponent("model.safetensors").path
    }

    func run(_ model: String, _ extra: [String] = []) throws -> String {
        let r = try EffnetProcess.run(
            ["run", EffnetProcess.fixture("images/grace_hopper.jpg"), "-m", model, "--json", "--top", "5"] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout
    }

    @Test func configSuppliesPreprocessing() throws {
        let config = """
            {"architecture": "tf_efficientnetv2_b0", "num_classes": 10,
             "pretrained_cfg": {"input_size": [3, 72, 72], "crop_pct": 0.95, "interpolation": "bilinear",
                                "mean": [0.5, 0.4, 0.3], "std": [0.2, 0.25, 0.3]}}
            """
        let with = try run(try folder(config: config))
        let flags = try run(
            try folder(config: nil),
            ["--size", "72", "--crop-pct", "0.95", "--interpolation", "bilinear", "--mean", "0.5,0.4,0.3", "--std", "0.2,0.25,0.3"])
        let without = try run(try folder(config: nil), ["--size", "72"])
        #expect(with == flags)
        #expect(with != without)
        // The fixture's own config (what timm wrote) is read too.
        let inspect = try EffnetProcess.run(["inspect", Self.weights, "--json"])
        #expect((inspect.json?["architecture"] as? String)?.hasPrefix("tf_efficientnetv2_b0") == true)
    }

    @Test func unknownArchitectureNamesTheConfig() throws {
        let model = try folder(config: #"{"architecture": "resnet50", "pretrained_cfg": {}}"#)
        let r = try EffnetProcess.run(["inspect", model])
        #expect(r.status == 2)
        #expect(r.stderr.contains("config.json"), "\(r.stderr)")
        // --arch wins over the config.
        #expect(try EffnetProcess.run(["inspect", model, "--arch", "tf_efficientnetv2_b0"]).status == 0)
        // Another library's config.json (no architecture) is ignored.
        let other = try folder(config: #"{"model_type": "bert"}"#)
        #expect(try EffnetProcess.run(["inspect", other]).status == 0)
    }
}
