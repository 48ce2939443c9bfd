import Foundation
import Imaging

/// Preprocessing the model states for itself: a timm `config.json` beside the model file (`pretrained_cfg`, or the
/// same keys at the top level of older files): `input_size`, `crop_pct`, `interpolation`, `mean`, `std`. It
/// overrides the preset's defaults; `run`'s flags override it.
package struct ModelPreprocessing: Sendable {
    package var size: Int?
    package var cropPct: Double?
    package var interpolation: Interpolation?
    package var mean: [Float]?
    package var std: [Float]?
    /// The file it came from.
    package var source: String

    package struct ConfigError: Error, CustomStringConvertible {
        package var path: String
        package var problem: String
        package var description: String { "\(path): \(problem)" }
    }

    /// Reads `config.json` in the model's folder, nil when there is none.
    package static func beside(model: String) throws -> ModelPreprocessing? {
        let path = URL(fileURLWithPath: model).deletingLastPathComponent().appendingPathComponent("config.json").path
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard let size, size <= 16 << 20, let data = FileManager.default.contents(atPath: path),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw ConfigError(path: path, problem: "not a readable JSON object (a timm config.json)") }
        let cfg = json["pretrained_cfg"] as? [String: Any] ?? json
        var result = ModelPreprocessing(source: path)
        if let input = cfg["input_size"] {
            guard let dims = input as? [Int], dims.count == 3, dims[1] == dims[2] else {
                throw ConfigError(path: path, problem: "input_size must be [3, S, S]")
            }
            guard (1...ModelLimits.maxSize).contains(dims[1]) else {
                throw ConfigError(path: path, problem: "input_size \(dims[1]) is outside 1…\(ModelLimits.maxSize)")
            }
            result.size = dims[1]
        }
        if let value = cfg["crop_pct"] {
            guard let crop = value as? Double, crop >= ModelLimits.minCropPct, crop <= 1 else {
                throw ConfigError(path: path, problem: "crop_pct \(value) is outside \(ModelLimits.minCropPct)…1")
            }
            result.cropPct = crop
        }
        if let value = cfg["interpolation"] {
            guard let name = value as? String, let interpolation = Interpolation(rawValue: name) else {
                throw ConfigError(path: path, problem: "interpolation '\(value)' is not supported (bilinear, bicubic)")
            }
            result.interpolation = interpolation
        }
        for key in ["mean", "std"] {
            guard let value = cfg[key] else { continue }
            guard let numbers = value as? [Double], numbers.count == 3, numbers.allSatisfy(\.isFinite),
                key == "mean" || numbers.allSatisfy({ $0 != 0 })
            else {
                throw ConfigError(path: path, problem: "\(key) must be three numbers\(key == "std" ? ", none 0" : "")")
            }
            if key == "mean" { result.mean = numbers.map(Float.init) } else { result.std = numbers.map(Float.init) }
        }
        return result
    }

    package func apply(to prep: inout Preprocessing) {
        if let cropPct { prep.cropPct = cropPct }
        if let interpolation { prep.interpolation = interpolation }
        if let mean { prep.mean = mean }
        if let std { prep.std = std }
    }
}

extension ModelPreprocessing {
    /// What `convert` records in an ONNX file built from a checkpoint (`effnet.scheme`, `effnet.mean`,
    /// `effnet.crop_pct`, `effnet.interpolation`): the checkpoint's framework preset and its crop and filter, so
    /// that the converted file runs as the checkpoint does. Nil for other ONNX files.
    package static func fromMetadata(_ metadata: [String: String], path: String) -> (preset: String, prep: ModelPreprocessing)?
    {
        guard let scheme = metadata["effnet.scheme"] else { return nil }
        let preset: String
        switch scheme {
        case "keras": preset = "keras"
        case "torchvision": preset = "torchvision"
        case "timm", "efficientnet-pytorch": preset = metadata["effnet.mean"]?.hasPrefix("0.5,") == true ? "timm-tf" : "timm"
        default: return nil
        }
        var prep = ModelPreprocessing(source: path)
        if let crop = metadata["effnet.crop_pct"].flatMap(Double.init), crop >= ModelLimits.minCropPct, crop <= 1 {
            prep.cropPct = crop
        }
        prep.interpolation = metadata["effnet.interpolation"].flatMap(Interpolation.init(rawValue:))
        return (preset, prep)
    }
}
