import Foundation
import IR

/// How an image becomes a model input: the eval transform of the framework the model came from.
///
/// Resize the shorter side to `resizeSize = floor(size / cropPct)` (PIL's antialiased filter, bit-exact),
/// center-crop `size × size` (torchvision's rounding), then per channel `(v / 255 − mean) / std` in float32 — the
/// operation order of torchvision's `ToTensor` + `Normalize`, so a float tensor matches PyTorch's exactly when the
/// pixels do — or, for `range == .byte`, `(v − mean) / std` on raw 0…255 values.
public struct Preprocessing: Sendable, Equatable {
    /// `.nchw` ([N, 3, H, W]: PyTorch / ONNX models) or `.nhwc` ([N, H, W, 3]: Keras models): the IR's `Layout`.
    public typealias Layout = IR.Layout

    public enum PixelRange: String, Sendable, CaseIterable {
        /// v / 255, then mean/std (torchvision `ToTensor`).
        case unit
        /// Raw 0…255 values, then mean/std (Keras applications rescale inside the model).
        case byte
    }

    /// Side of the square crop fed to the model.
    public var size: Int
    /// Fraction of the resized shorter side the crop keeps (timm's `crop_pct`); 1 = crop the whole shorter side.
    public var cropPct: Double
    public var interpolation: Interpolation
    /// Per-channel (R, G, B) mean and standard deviation, in the units of `range`.
    public var mean: [Float]
    public var std: [Float]
    public var range: PixelRange
    /// Layout `tensor(from:)` produces unless told otherwise.
    public var layout: Layout

    public init(
        size: Int, cropPct: Double = 1, interpolation: Interpolation, mean: [Float], std: [Float],
        range: PixelRange = .unit, layout: Layout = .nchw
    ) {
        self.size = size
        self.cropPct = cropPct
        self.interpolation = interpolation
        self.mean = mean
        self.std = std
        self.range = range
        self.layout = layout
    }

    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]
    public static let presetNames = ["torchvision", "timm", "timm-tf", "keras"]

    /// The eval transform of a family at crop size `size`.
    ///
    /// - `torchvision`: `Resize(S, bilinear)`, `CenterCrop(S)`, ImageNet mean/std (torchvision's EfficientNetV2
    ///   weights use exactly this with S = 384 or 480).
    /// - `timm`: `Resize(floor(S / 0.875), bicubic)`, `CenterCrop(S)`, ImageNet mean/std (timm's default
    ///   `crop_pct`; several EfficientNetV2 configs use 1.0, pass it with `cropPct`).
    /// - `timm-tf`: as `timm` with `crop_pct` 1.0 and mean = std = 0.5 (timm's `tf_efficientnetv2_*` configs).
    /// - `keras`: `Resize(S, bilinear)`, `CenterCrop(S)`, raw 0…255 RGB in NHWC. Keras EfficientNetV2 models
    ///   (`include_preprocessing=True`, the default) rescale and normalize inside the graph and
    ///   `keras.applications.efficientnet_v2.preprocess_input` is the identity; the shorter-side resize and center
    ///   crop follow the other presets rather than `keras.utils.load_img`'s aspect-distorting squash.
    public static func preset(name: String, size: Int) throws -> Preprocessing {
        guard size > 0 else { throw PreprocessingError.invalidSize(size) }
        switch name {
        case "torchvision":
            return Preprocessing(size: size, interpolation: .bilinear, mean: imagenetMean, std: imagenetStd)
        case "timm":
            return Preprocessing(
                size: size, cropPct: 0.875, interpolation: .bicubic, mean: imagenetMean, std: imagenetStd)
        case "timm-tf":
            return Preprocessing(size: size, interpolation: .bicubic, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
        case "keras":
            return Preprocessing(
                size: size, interpolation: .bilinear, mean: [0, 0, 0], std: [1, 1, 1], range: .byte, layout: .nhwc)
        default:
            throw PreprocessingError.unknownPreset(name)
        }
    }

    /// The shorter side after resizing: timm's `math.floor(size / crop_pct)`.
    public var resizeSize: Int {
        let s = (Double(size) / cropPct).rounded(.down)
        return s.isFinite && s < Double(Self.maxResizeSize) ? Int(s) : Self.maxResizeSize + 1
    }

    /// Largest shorter side a resize may produce (a crop fraction of 1e-6 would ask for 224,000,000 pixels).
    public static let maxResizeSize = 1 << 16

    /// Checks the fields a user can override (size, crop fraction, three positive-std channels).
    public func validate() throws {
        guard size > 0 else { throw PreprocessingError.invalidSize(size) }
        guard cropPct.isFinite, cropPct > 0, resizeSize > 0 else { throw PreprocessingError.invalidCropPct(cropPct) }
        guard resizeSize <= Self.maxResizeSize else {
            throw PreprocessingError.resizeTooLarge(size: size, cropPct: cropPct, limit: Self.maxResizeSize)
        }
        guard mean.count == 3, mean.allSatisfy(\.isFinite) else {
            throw PreprocessingError.invalidChannels("mean", mean)
        }
        guard std.count == 3, std.allSatisfy({ $0.isFinite && $0 != 0 }) else {
            throw PreprocessingError.invalidChannels("std", std)
        }
    }

    /// The resized and center-cropped `size × size` image, pixel-identical to torchvision's
    /// `CenterCrop(S)(Resize(resizeSize, interpolation)(image))` (only the kept pixels are computed).
    public func prepare(_ image: RGBImage) -> RGBImage {
        let target = RGBImage.size(width: image.width, height: image.height, shorterSide: resizeSize)
        let crop = (
            x: RGBImage.centerCropOrigin(size: target.width, crop: size),
            y: RGBImage.centerCropOrigin(size: target.height, crop: size), width: size, height: size
        )
        return image.resized(width: target.width, height: target.height, interpolation: interpolation, croppingTo: crop)
    }

    /// A float32 batch of `images` in `self.layout`.
    public func tensor(from images: [RGBImage]) -> Tensor { tensor(from: images, layout: layout) }

    /// A float32 batch [N, 3, S, S] (`.nchw`) or [N, S, S, 3] (`.nhwc`), each image prepared and normalized.
    public func tensor(from images: [RGBImage], layout: Layout) -> Tensor {
        precondition(mean.count == 3 && std.count == 3, "mean and std need three channels")
        let plane = size * size
        var values = [Float](repeating: 0, count: images.count * plane * 3)
        for (n, image) in images.enumerated() {
            let pixels = prepare(image).pixels
            let base = n * plane * 3
            for c in 0..<3 {
                let m = mean[c]
                let s = std[c]
                for i in 0..<plane {
                    let v = Float(pixels[3 * i + c])
                    let scaled = range == .unit ? v / 255 : v
                    let index = layout == .nchw ? base + c * plane + i : base + 3 * i + c
                    values[index] = (scaled - m) / s
                }
            }
        }
        let shape = layout == .nchw ? [images.count, 3, size, size] : [images.count, size, size, 3]
        return Tensor(shape: shape, floats: values)
    }

    /// Parses a `--mean` / `--std` value: three comma-separated numbers.
    public static func parseChannels(_ text: String, option: String) throws -> [Float] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            Float($0.trimmingCharacters(in: .whitespaces))
        }
        guard parts.count == 3, let values = parts as? [Float] else {
            throw PreprocessingError.unparsableChannels(option: option, text: text)
        }
        return values
    }
}

/// A preprocessing request that cannot be honoured; the CLI prints it as a usage error.
public enum PreprocessingError: Error, CustomStringConvertible, Equatable, Sendable {
    case unknownPreset(String)
    case invalidSize(Int)
    case invalidCropPct(Double)
    case resizeTooLarge(size: Int, cropPct: Double, limit: Int)
    case invalidChannels(String, [Float])
    case unparsableChannels(option: String, text: String)

    public var description: String {
        switch self {
        case .unknownPreset(let name):
            "unknown preprocessing preset '\(name)' (known: \(Preprocessing.presetNames.joined(separator: ", ")))"
        case .invalidSize(let size): "image size must be positive, got \(size)"
        case .resizeTooLarge(let size, let p, let limit):
            "crop fraction \(p) at size \(size) would resize the shorter side to more than \(limit) pixels"
        case .invalidCropPct(let p): "crop fraction must be positive and leave a resize size of at least 1, got \(p)"
        case .invalidChannels(let field, let values):
            "\(field) needs three finite values\(field == "std" ? ", none zero" : ""), got \(values)"
        case .unparsableChannels(let option, let text): "\(option) takes three comma-separated numbers, got '\(text)'"
        }
    }
}
