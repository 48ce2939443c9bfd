/// The two EfficientNetV2 block kinds (paper, Table 4).
///
/// MBConv: 1×1 expansion, k×k depthwise, squeeze-excitation, 1×1 projection. Fused-MBConv: the expansion and the
/// depthwise conv fused into one dense k×k conv, then (when the block expands) a 1×1 projection.
public enum BlockKind: String, Hashable, Sendable, CaseIterable {
    case mbconv
    case fusedMBConv = "fused_mbconv"
}

/// How a framework pads its convolutions.
public enum PaddingStyle: String, Hashable, Sendable {
    /// PyTorch: `(k − 1) / 2` on every side, whatever the input size (timm non-`tf_`, torchvision).
    case symmetric
    /// TensorFlow "SAME": output = ⌈input / stride⌉, total padding `max((⌈i/s⌉ − 1)·s + k − i, 0)`, the odd pixel at
    /// the bottom/right (timm `tf_`, Keras). Equal to ONNX `auto_pad = SAME_UPPER`.
    case tfSame = "tf_same"
}

/// Preprocessing that the model itself applies to its input (Keras applications only).
public enum InModelPreprocessing: Hashable, Sendable {
    case none
    /// `x · scale + offset` (Keras `Rescaling`; V2-S/M/L: scale 1/128, offset −1).
    case rescale(scale: Float, offset: Float)
    /// `Rescaling(scale)` then `Normalization`: `(x·scale − mean) / max(√variance, 1e-7)` per channel
    /// (Keras V2-B0…B3: scale 1/255, ImageNet mean, variance = std²).
    case rescaleNormalize(scale: Float, mean: [Float], variance: [Float])
}

/// Per-channel normalization applied to the image *before* the model, as the weights were trained with.
public struct ImageNormalization: Hashable, Sendable {
    public var mean: [Float]
    public var std: [Float]
    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    public static let imagenet = ImageNormalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// Google's TF EfficientNetV2 checkpoints: x ∈ [0, 1] mapped to [−1, 1].
    public static let half = ImageNormalization(mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
    /// No normalization outside the model (Keras: raw 0…255 pixels).
    public static let identity = ImageNormalization(mean: [0, 0, 0], std: [1, 1, 1])
}

/// One stage of an architecture definition, unscaled (before width/depth multipliers).
public struct StageSpec: Hashable, Sendable {
    public var kind: BlockKind
    public var repeats: Int
    public var kernel: Int
    /// Stride of the first block; the others use 1.
    public var stride: Int
    public var expansion: Int
    /// Squeeze-excitation ratio relative to the block's input channels (0: no SE).
    public var seRatio: Double
    public var outChannels: Int
    /// timm `er_…_e1` (EfficientNetV2 `rw` variants): a Fused-MBConv of expansion 1 that still has its 1×1
    /// projection. Everywhere else an unexpanded Fused-MBConv is a single k×k conv.
    public var projectsWithoutExpansion: Bool

    public init(
        _ kind: BlockKind, repeats: Int, kernel: Int = 3, stride: Int, expansion: Int, seRatio: Double = 0,
        out: Int, projectsWithoutExpansion: Bool = false
    ) {
        self.kind = kind
        self.repeats = repeats
        self.kernel = kernel
        self.stride = stride
        self.expansion = expansion
        self.seRatio = seRatio
        self.outChannels = out
        self.projectsWithoutExpansion = projectsWithoutExpansion
    }
}

/// How a framework turns a width multiplier into channel counts.
public enum ChannelRounding: Hashable, Sendable {
    /// timm `make_divisible(c·w, 8, round_limit)` and torchvision `_make_divisible` (limit 0.9): nearest multiple
    /// of 8, at least 8, bumped up by 8 when rounding lost more than `1 − roundLimit` of the value.
    case divisible(roundLimit: Double)
    /// Keras `round_filters`: nearest multiple of 8, at least 8, never bumped.
    case keras

    public func round(_ channels: Int, _ multiplier: Double) -> Int {
        let v = Double(channels) * multiplier
        let nearest = max(8, Int(v + 4) / 8 * 8)
        switch self {
        case .divisible(let limit): return Double(nearest) < limit * v ? nearest + 8 : nearest
        case .keras: return nearest
        }
    }
}

/// The EfficientNet generation an architecture belongs to.
public enum ArchitectureFamily: String, Hashable, Sendable {
    /// EfficientNetV2 (Fused-MBConv early stages, MBConv with SE later; SiLU).
    case efficientnetV2 = "EfficientNetV2"
    /// EfficientNet (V1) B0…B7: MBConv with SE everywhere, SiLU, 3×3 and 5×5 depthwise kernels.
    case efficientnet = "EfficientNet"
    /// EfficientNet-Lite0…4: the V1 stages without SE, ReLU6, stem and head widths fixed, first and last stage
    /// depths fixed.
    case efficientnetLite = "EfficientNet-Lite"
}

/// One EfficientNet variant as a framework defines it: the stage table (paper, Table 4, or the framework's own
/// arch_def), width/depth multipliers with the framework's rounding, and what weights cannot tell — strides,
/// padding style, BatchNorm epsilon, activation, input size and preprocessing.
///
/// The channel and repeat counts here are only used to *name* a checkpoint's variant; the graph is always built
/// from the widths and depths read from the weights (`NetworkStructure`).
public struct Architecture: Hashable, Sendable, CustomStringConvertible {
    /// The framework's own name: `tf_efficientnetv2_s`, `efficientnet_v2_s`, `EfficientNetV2S`.
    public var name: String
    public var scheme: NamingScheme
    /// Unscaled stage table.
    public var stages: [StageSpec]
    public var stemChannels: Int
    public var headChannels: Int
    /// Whether the head width follows the width multiplier (timm M/L/XL keep 1280 fixed).
    public var headScales: Bool
    public var widthMultiplier: Double
    /// One depth multiplier per stage (timm `efficientnetv2_rw_m` uses two values).
    public var depthMultipliers: [Double]
    public var rounding: ChannelRounding
    public var padding: PaddingStyle
    public var batchNormEpsilon: Float
    /// Block and head activation; every EfficientNetV2 uses SiLU (swish).
    public var activation: String
    /// Evaluation resolution (timm `test_input_size`, torchvision crop size, Keras `default_size`).
    public var inputSize: Int
    /// Training resolution (timm `input_size`, the paper's training size).
    public var trainInputSize: Int
    /// Image normalization outside the model; `.identity` for Keras (the model normalizes).
    public var normalization: ImageNormalization
    /// timm/torchvision crop fraction for evaluation preprocessing.
    public var cropPct: Double
    public var interpolation: String
    public var preprocessing: InModelPreprocessing
    /// Keras ends in a softmax; timm and torchvision return logits.
    public var softmaxOutput: Bool
    /// Keras takes NHWC images, PyTorch NCHW.
    public var channelsLast: Bool
    public var family: ArchitectureFamily = .efficientnetV2
    /// Whether the stem width follows the width multiplier (EfficientNet-Lite keeps 32: timm `fix_stem`).
    public var stemScales: Bool = true
    /// Whether the first and last stages keep their repeats under a depth multiplier (EfficientNet-Lite: timm
    /// `fix_first_last`).
    public var fixedEndDepths: Bool = false
    /// torchvision EfficientNet (V1): the head has 4 × the last stage's channels (`last_channel = None`); 0 when
    /// the head width comes from `headChannels`.
    public var headTimesLastStage: Int = 0

    /// One depth multiplier per stage for a uniform multiplier `d`, with the fixed ends of EfficientNet-Lite.
    public func stageDepths(_ d: Double) -> [Double] {
        stages.indices.map { fixedEndDepths && ($0 == 0 || $0 == stages.count - 1) ? 1 : d }
    }

    public var description: String { name }

    /// Every architecture effnet knows, timm first, then torchvision, then Keras, then `efficientnet-pytorch`.
    /// timm and torchvision both call EfficientNet-B0 `efficientnet_b0`: `named` finds timm's, detection of a
    /// torchvision checkpoint takes torchvision's.
    public static var all: [Architecture] {
        timm + efficientnetTimm + torchvision + efficientnetTorchvision + keras + efficientnetKeras
            + efficientnetPytorch
    }

    /// The architecture of that exact name (case-sensitive first, then case-insensitive).
    public static func named(_ name: String) -> Architecture? {
        all.first { $0.name == name } ?? all.first { $0.name.lowercased() == name.lowercased() }
    }

    /// Looks an architecture up by name, throwing a typed error listing the known names.
    public static func resolve(_ name: String) throws -> Architecture {
        guard let arch = named(name) else {
            throw CheckpointError.unknownArchitecture(name, known: all.map(\.name))
        }
        return arch
    }
}
