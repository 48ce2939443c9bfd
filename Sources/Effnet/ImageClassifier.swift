import Foundation
import IR
import Imaging

@_exported import EffnetRuntime

/// An image classifier made from any model file effnet reads: the embedding API of `effnet run`.
///
/// ```swift
/// let classifier = try ImageClassifier(contentsOf: "model.onnx")
/// for c in try classifier.classify(imageAt: "photo.jpg", top: 3) {
///     print(c.index, c.label ?? "", c.probability)
/// }
/// ```
///
/// What `init` does, as `effnet run` does it: reads the file, whose kind comes from its content (ONNX, NumPy
/// `.npz`, safetensors, PyTorch `.pth`/`.bin`, Keras `.h5`/`.weights.h5`/`.keras`); builds a checkpoint's graph
/// from its detected architecture (or `Options.architecture`); fixes the input size (the model's own, a timm or
/// Keras `config.json` beside it, or the architecture's default; `Options.inputSize` overrides); optimizes;
/// and plans the graph for the native runtime. The preprocessing is the model's framework's (`preset`), with what
/// a `config.json` beside the model or the ONNX file's effnet metadata states.
///
/// Probabilities are the softmax of the model's output (or the output itself when the graph ends in `Softmax`).
/// Labels are `Options.labels` (one name per line, or JSON), else the ImageNet-1k names for a 1000- or 1001-class
/// model, else nil. Errors are thrown as values that describe themselves in one line naming the file
/// (`String(describing: error)`). Inferences are serialised: one classifier computes one batch at a time.
public final class ImageClassifier: @unchecked Sendable {
    /// How to open a model; every field has a default that follows the model file.
    public struct Options: Sendable {
        /// Architecture of a checkpoint (`tf_efficientnetv2_s`, `efficientnet_v2_s`, `EfficientNetV2B0`, …),
        /// overriding detection. Nil: detected from the weights (or a config.json). Refused for ONNX files.
        public var architecture: String?
        /// Input size S (S×S pixels). Nil: the model's own.
        public var inputSize: Int?
        /// Preprocessing preset: `torchvision`, `timm`, `timm-tf` or `keras`. Nil: the model's framework's.
        public var preset: String?
        /// A labels file: one name per line, a JSON list, or a JSON map from index to name or to
        /// `[WordNet ID, name]`. Nil: ImageNet-1k names for 1000 or 1001 classes.
        public var labels: String?
        /// Worker threads of the runtime (the calling thread included).
        public var threads: Int
        /// Run effnet's optimizer (BatchNorm folding, block fusion) before planning.
        public var optimize: Bool

        public init(
            architecture: String? = nil, inputSize: Int? = nil, preset: String? = nil, labels: String? = nil,
            threads: Int = ProcessInfo.processInfo.activeProcessorCount, optimize: Bool = true
        ) {
            self.architecture = architecture
            self.inputSize = inputSize
            self.preset = preset
            self.labels = labels
            self.threads = threads
            self.optimize = optimize
        }
    }

    /// The model file.
    public let path: String
    /// The file's kind, read from its content: `onnx`, `npz`, `safetensors`, `pytorch`, `hdf5` or `keras`.
    public let format: String
    /// The detected architecture (`tf_efficientnetv2_s`, with a note on custom widths), when recognised.
    public let architecture: String?
    /// The input size S the model is planned for (images become S×S).
    public let inputSize: Int
    /// Whether the model takes NHWC input (Keras) rather than NCHW.
    public let channelsLast: Bool

    let executable: ExecutableModel
    let preprocessing: Preprocessing
    let labelFile: (path: String, names: [String])?

    /// Opens, optimizes and plans the model at `path` (see the type's description).
    public init(contentsOf path: String, options: Options = Options()) throws {
        if let size = options.inputSize, !(1...ModelLimits.maxSize).contains(size) {
            throw ModelUseError.reference(path: path, message: "input size \(size) is outside 1…\(ModelLimits.maxSize)")
        }
        guard (1...ModelLimits.maxThreads).contains(options.threads) else {
            throw ModelUseError.reference(
                path: path, message: "threads must be between 1 and \(ModelLimits.maxThreads): \(options.threads)")
        }
        labelFile = try options.labels.map { ($0, try Labels.read($0)) }
        let config = try ModelPreprocessing.beside(model: path)
        executable = try ExecutableModel(
            path: path, architecture: options.architecture, passes: options.optimize ? .standard : .none,
            size: options.inputSize ?? config?.size, threads: options.threads)
        let preprocessing = try executable.preprocessing(preset: options.preset, config: config)
        try preprocessing.validate()
        self.preprocessing = preprocessing
        self.path = path
        format = executable.loaded.format.rawValue
        architecture = executable.loaded.architecture
        inputSize = executable.size
        channelsLast = executable.channelsLast
    }

    /// The image file at `path` decoded (JPEG or PNG, as PIL decodes them) and preprocessed for this model: a
    /// float32 tensor [1, 3, S, S] (NCHW) or [1, S, S, 3] (NHWC). `exifTranspose` applies the file's EXIF
    /// orientation first (off by default, as in timm and torchvision).
    public func preprocess(imageAt path: String, exifTranspose: Bool = false) throws -> Tensor {
        let pixels = try RunPipeline.prepareOne(
            path, prep: preprocessing, maxPixels: ModelLimits.maxPixels, exifTranspose: exifTranspose)
        return RunPipeline.tensor([pixels], batch: 1, prep: preprocessing)
    }

    /// The `top` most probable classes of the image at `path`, most probable first.
    public func classify(imageAt path: String, top: Int = 5) throws -> [Classification] {
        try classify(preprocess(imageAt: path), top: top)[0]
    }

    /// The `top` most probable classes of each image of a preprocessed batch (`preprocess(imageAt:)`'s layout,
    /// any batch size), most probable first.
    public func classify(_ images: Tensor, top: Int = 5) throws -> [[Classification]] {
        let logits = try executable.logits(images, path: path)
        let names = try Labels.forModel(classes: logits.shape[1], file: labelFile)
        return Classification.top(logits, count: top, names: names, probabilities: executable.endsInSoftmax)
    }
}

/// One class of a classification: its index in the model's output, its name when known, and its probability.
public struct Classification: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var label: String?
    public var probability: Double

    public init(index: Int, label: String?, probability: Double) {
        self.index = index
        self.label = label
        self.probability = probability
    }

    public var description: String {
        "\(index) \(String(format: "%.4f", probability))" + (label.map { " " + $0 } ?? "")
    }

    /// The `count` best classes of each row of `logits` ([batch, classes]): softmax in Double with the maximum
    /// subtracted (exact for any finite logits), unless the rows already are `probabilities`.
    package static func top(_ logits: Tensor, count: Int, names: [String]?, probabilities: Bool) -> [[Classification]]
    {
        let classes = logits.shape[1]
        let values = logits.doubles
        return (0..<logits.shape[0]).map { i in
            let row = Array(values[(i * classes)..<((i + 1) * classes)])
            let p = probabilities ? row : softmax(row)
            let best = p.indices.sorted { p[$0] > p[$1] }.prefix(count)
            return best.map { Classification(index: $0, label: names?[$0], probability: p[$0]) }
        }
    }

    /// Softmax in Double with the maximum subtracted.
    package static func softmax(_ x: [Double]) -> [Double] {
        let m = x.max() ?? 0
        let e = x.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
