import Foundation
import Imaging

/// A timm `config.json` beside the weights (what `timm.models.push_to_hf_hub` / `save_config_for_hf` write next to
/// `model.safetensors` or `pytorch_model.bin`): `architecture` names the model, `pretrained_cfg` its evaluation
/// preprocessing (`input_size`, `crop_pct`, `interpolation`, `mean`, `std`).
///
/// Only a JSON object with a string `architecture` counts as one; any other `config.json` (another library's) is
/// ignored. `--arch` and the `run` options override what it says.
struct TimmConfig: Equatable {
    var path: String
    var architecture: String
    var inputSize: Int?
    var cropPct: Double?
    var interpolation: Interpolation?
    var mean: [Float]?
    var std: [Float]?

    /// The config beside `modelPath`, when there is a timm one.
    static func beside(_ modelPath: String) -> TimmConfig? {
        let url = URL(fileURLWithPath: modelPath).deletingLastPathComponent().appendingPathComponent("config.json")
        // A config.json is a few KB; a large file there is not one.
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
            let size = attributes[.size] as? Int, size <= 1 << 20,
            let data = try? Data(contentsOf: url),
            let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let architecture = json["architecture"] as? String
        else { return nil }
        var config = TimmConfig(path: url.path, architecture: architecture)
        let cfg = json["pretrained_cfg"] as? [String: Any] ?? [:]
        if let input = cfg["input_size"] as? [Any], input.count == 3, let h = (input[1] as? NSNumber)?.intValue,
            h > 0, h <= 4096
        {
            config.inputSize = h
        }
        if let c = (cfg["crop_pct"] as? NSNumber)?.doubleValue, c > 0, c <= 1 { config.cropPct = c }
        if let i = cfg["interpolation"] as? String { config.interpolation = Interpolation(rawValue: i) }
        func channels(_ key: String) -> [Float]? {
            guard let v = cfg[key] as? [Any], v.count == 3 else { return nil }
            let f = v.compactMap { ($0 as? NSNumber)?.floatValue }
            return f.count == 3 && f.allSatisfy(\.isFinite) ? f : nil
        }
        config.mean = channels("mean")
        config.std = channels("std")
        return config
    }

    /// The config's preprocessing over a preset's.
    func apply(to prep: inout Preprocessing) {
        if let cropPct { prep.cropPct = cropPct }
        if let interpolation { prep.interpolation = interpolation }
        if let mean { prep.mean = mean }
        if let std { prep.std = std }
    }
}
