import Foundation

/// A timm `config.json` beside the weights (what `timm.models.push_to_hf_hub` / `save_config_for_hf` write next to
/// `model.safetensors` or `pytorch_model.bin`): `architecture` names the model, `pretrained_cfg` its evaluation
/// preprocessing (`input_size`, `crop_pct`, `interpolation`, `mean`, `std`, read by `ModelPreprocessing`).
///
/// Only a JSON object with a string `architecture` counts as one; any other `config.json` (another library's) is
/// ignored. `--arch` and the `run` options override what it says.
struct TimmConfig: Equatable {
    var path: String
    var architecture: String

    /// The config beside `modelPath`, when there is a timm one. Its preprocessing (`pretrained_cfg`) is read,
    /// strictly, by `ModelPreprocessing.beside(model:)`.
    static func beside(_ modelPath: String) -> TimmConfig? {
        let url = URL(fileURLWithPath: modelPath).deletingLastPathComponent().appendingPathComponent("config.json")
        // A config.json is a few KB; a large file there is not one.
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
            let size = attributes[.size] as? Int, size <= 1 << 20,
            let data = try? Data(contentsOf: url),
            let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let architecture = json["architecture"] as? String
        else { return nil }
        return TimmConfig(path: url.path, architecture: architecture)
    }
}
