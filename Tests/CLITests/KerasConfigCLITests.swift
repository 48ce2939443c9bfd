import Foundation
import Testing

/// A Keras model config supplies the architecture and the input size: the `.keras` archive's own `config.json`
/// (the fixture's says `efficientnetv2-b0` at 64×64), or a `config.json` beside a `.weights.h5`. A config naming
/// another variant than the weights, or one that is not a Keras config, is refused naming the config.
@Suite struct KerasConfigCLITests {
    static let folder = "formats/keras_efficientnetv2_b0/"

    func weights(config config_: String?) throws -> (model: String, config: String) {
        let dir = try EffnetProcess.scratch()
        let model = dir.appendingPathComponent("model.weights.h5").path
        try FileManager.default.copyItem(atPath: EffnetProcess.fixture(Self.folder + "model.weights.h5"), toPath: model)
        let config = dir.appendingPathComponent("config.json").path
        if let config_ = config_ { try Data(config_.utf8).write(to: URL(fileURLWithPath: config)) }
        return (model, config)
    }

    func inputDims(_ r: EffnetProcess.Result) -> [Int]? {
        ((r.json?["inputs"] as? [[String: Any]])?.first?["shape"] as? [Any])?.compactMap { $0 as? Int }
    }

    @Test func kerasArchiveConfigSuppliesArchitectureAndSize() throws {
        let r = try EffnetProcess.run(["inspect", EffnetProcess.fixture(Self.folder + "model.keras"), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect((r.json?["architecture"] as? String)?.hasPrefix("EfficientNetV2B0") == true)
        // The archive's InputLayer is [null, 64, 64, 3]; the weights alone would give B0's 224.
        let plain = try EffnetProcess.run(["inspect", EffnetProcess.fixture(Self.folder + "model.weights.h5")])
        #expect(plain.status == 0)
        #expect(plain.stdout.contains("[N,224,224,3]"), "\(plain.stdout)")
        let keras = try EffnetProcess.run(["inspect", EffnetProcess.fixture(Self.folder + "model.keras")])
        #expect(keras.stdout.contains("[N,64,64,3]"), "\(keras.stdout)")
    }

    @Test func configBesideWeightsSuppliesSize() throws {
        let (model, config) = try weights(config: nil)
        try Data(
            #"{"class_name": "Functional", "config": {"name": "efficientnetv2-b0", "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 80, 80, 3]}}]}}"#
                .utf8
        ).write(to: URL(fileURLWithPath: config))
        let r = try EffnetProcess.run(["inspect", model])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("[N,80,80,3]"), "\(r.stdout)")
    }

    @Test func wrongConfigIsRefused() throws {
        let (model, config) = try weights(config: nil)
        try Data(#"{"class_name": "Functional", "config": {"name": "efficientnetv2-s", "layers": []}}"#.utf8)
            .write(to: URL(fileURLWithPath: config))
        let r = try EffnetProcess.run(["inspect", model])
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(
            r.stderr == "effnet: \(config): names EfficientNetV2S, but the weights in \(model) are EfficientNetV2B0\n",
            "\(r.stderr)")
        // --arch overrides the config.
        #expect(try EffnetProcess.run(["inspect", model, "--arch", "EfficientNetV2B0"]).status == 0)

        try Data("not json".utf8).write(to: URL(fileURLWithPath: config))
        let bad = try EffnetProcess.run(["inspect", model])
        #expect(bad.status == 2)
        #expect(bad.stderr.hasSuffix("\(config): not a readable JSON object (a Keras model config)\n"), "\(bad.stderr)")

        try Data(
            #"{"class_name": "Functional", "config": {"name": "efficientnetv2-b0", "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 99999, 99999, 3]}}]}}"#
                .utf8
        ).write(to: URL(fileURLWithPath: config))
        let big = try EffnetProcess.run(["inspect", model])
        #expect(big.status == 2)
        #expect(big.stderr.contains("\(config): input size 99999 is outside"), "\(big.stderr)")
    }
}
