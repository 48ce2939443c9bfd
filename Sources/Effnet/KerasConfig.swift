import Formats
import Foundation

/// A Keras model config: the `config.json` member of a `.keras` archive, or the `config.json` that
/// `model.to_json()` / Keras saving writes beside a `.h5` / `.weights.h5` file
/// (`{"class_name": "Functional", "config": {"name": "efficientnetv2-b0", "layers": [...]}}`).
///
/// The model name (`efficientnetv2-b0`…`-b3`, `-s`, `-m`, `-l`) names the architecture and the `InputLayer`'s
/// `batch_shape` (Keras 3) or `batch_input_shape` (Keras 2) the input size; `--arch` and `--size` override them.
/// A model renamed by its user names no architecture (the weights decide). A config that is not one is an error
/// naming it.
struct KerasConfig: Equatable {
    /// The file named in errors (`model.keras:config.json` for an archive member).
    var path: String
    /// effnet's architecture name (`EfficientNetV2B0`), when the model name is a Keras application's.
    var architecture: String?
    var inputSize: Int?

    struct ConfigError: Error, CustomStringConvertible {
        var path: String
        var problem: String
        var description: String { "\(path): \(problem)" }
    }

    /// Keras application model names and effnet's architecture names.
    static let names: [String: String] = [
        "efficientnetv2-b0": "EfficientNetV2B0", "efficientnetv2-b1": "EfficientNetV2B1",
        "efficientnetv2-b2": "EfficientNetV2B2", "efficientnetv2-b3": "EfficientNetV2B3",
        "efficientnetv2-s": "EfficientNetV2S", "efficientnetv2-m": "EfficientNetV2M",
        "efficientnetv2-l": "EfficientNetV2L",
    ]

    /// The config of a checkpoint: the archive's own for `.keras`, a Keras `config.json` beside a HDF5 file
    /// (a timm or other `config.json` there is not one and is left to others), nil otherwise.
    static func of(_ modelPath: String, kind: ModelFileKind) throws -> KerasConfig? {
        switch kind {
        case .keras:
            guard let bytes = try KerasH5.archiveConfig(contentsOf: modelPath) else { return nil }
            return try parse(Data(bytes), path: modelPath + ":config.json", required: true)
        case .hdf5:
            let path = URL(fileURLWithPath: modelPath).deletingLastPathComponent()
                .appendingPathComponent("config.json").path
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            guard let size, size <= 16 << 20, let data = FileManager.default.contents(atPath: path) else {
                throw ConfigError(path: path, problem: "not a readable config.json of at most 16 MB")
            }
            return try parse(data, path: path, required: false)
        default:
            return nil
        }
    }

    /// Parses a Keras config; with `required` false, a JSON object without `class_name` (not Keras's) gives nil.
    static func parse(_ data: Data, path: String, required: Bool) throws -> KerasConfig? {
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ConfigError(path: path, problem: "not a readable JSON object (a Keras model config)")
        }
        guard json["class_name"] != nil || required else { return nil }
        guard json["class_name"] is String, let config = json["config"] as? [String: Any] else {
            throw ConfigError(path: path, problem: "a Keras model config needs 'class_name' and a 'config' object")
        }
        var result = KerasConfig(path: path)
        if let name = config["name"] {
            guard let name = name as? String else {
                throw ConfigError(path: path, problem: "the model 'name' is not a string")
            }
            result.architecture = names[name]
        }
        guard let layers = config["layers"] else { return result }
        guard let layers = layers as? [Any] else {
            throw ConfigError(path: path, problem: "'layers' is not a list")
        }
        for case let layer as [String: Any] in layers where layer["class_name"] as? String == "InputLayer" {
            let layerConfig = layer["config"] as? [String: Any] ?? [:]
            guard let shape = layerConfig["batch_shape"] ?? layerConfig["batch_input_shape"] else { continue }
            guard let dims = shape as? [Any], dims.count == 4 else {
                throw ConfigError(path: path, problem: "the input layer's batch shape is not [batch, H, W, C]")
            }
            if dims[1] is NSNull && dims[2] is NSNull { break }
            guard let h = dims[1] as? Int, let w = dims[2] as? Int, h == w else {
                throw ConfigError(path: path, problem: "the input layer's batch shape must be [batch, S, S, 3]")
            }
            guard (1...ModelLimits.maxSize).contains(h) else {
                throw ConfigError(path: path, problem: "input size \(h) is outside 1…\(ModelLimits.maxSize)")
            }
            if let c = dims[3] as? Int, c != 3 {
                throw ConfigError(path: path, problem: "the input layer has \(c) channels, not 3")
            }
            result.inputSize = h
            break
        }
        return result
    }
}
