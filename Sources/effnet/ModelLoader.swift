import Formats
import Foundation
import IR
import Models
import Optimizer

/// A model as the CLI holds it: the IR model plus where it came from.
struct LoadedModel {
    enum Format: String, CaseIterable {
        case onnx, npz, safetensors, pytorch, hdf5, keras

        /// A weight checkpoint (built into a graph by effnet), not an ONNX graph.
        var isCheckpoint: Bool { self != .onnx }
    }

    var model: Model
    var format: Format
    var path: String
    /// The detected (or `--arch`) architecture name, when known.
    var architecture: String?
    /// The architecture's default (evaluation) input resolution, when known.
    var defaultSize: Int? = nil
    /// The preprocessing preset the source framework uses, when known (`timm`, `timm-tf`, `torchvision`, `keras`).
    var preset: String? = nil
    /// The half-precision dtype of a float16/bfloat16 ONNX model, whose weights were widened to float32 at load.
    var halfPrecision: DType? = nil
    /// Preprocessing the checkpoint's architecture states (crop, filter, mean, std), applied over the preset when
    /// `--preset` is not given (EfficientNet V1 and Lite checkpoints).
    var architecturePreprocessing: ModelPreprocessing? = nil
    /// The timm config.json beside a checkpoint, when there is one (architecture, preprocessing).
    var config: TimmConfig? = nil
    /// External data files the model's tensors were read from (an output must never replace one).
    var dataFiles: [String] = []
}

/// Errors about how the CLI was asked to treat a model (file contents errors come from the readers).
enum ModelUseError: Error, CustomStringConvertible {
    case unknownInputSize(path: String, input: String)
    case fixedInputSize(path: String, input: String, size: [Int])
    case notAnImageModel(path: String)
    case reference(path: String, message: String)

    var description: String {
        switch self {
        case .unknownInputSize(let path, let input):
            "\(path): input '\(input)' has no fixed spatial size; pass --size"
        case .fixedInputSize(let path, let input, let size):
            "\(path): input '\(input)' has a fixed size \(size.map(String.init).joined(separator: "x")); --size cannot change it"
        case .notAnImageModel(let path):
            "\(path): the model's first input is not a 4-D image tensor"
        case .reference(let path, let message): "\(path): \(message)"
        }
    }
}

enum ModelLoader {
    /// Reads an ONNX model or a checkpoint (`.npz`, safetensors, PyTorch, Keras), chosen by content.
    static func load(_ options: ModelOptions) throws -> LoadedModel {
        ErrorReport.current = options.model
        let kind = try ModelFileKind.detect(path: options.model)
        switch kind {
        case .onnx:
            // An ONNX graph fixes its own architecture; silently ignoring --arch would mislead.
            if let arch = options.arch {
                throw ModelUseError.reference(
                    path: options.model,
                    message: "--arch \(arch) applies only to checkpoints; an ONNX graph fixes its own architecture")
            }
            var (model, dataFiles) = try ONNXReader.readWithDataFiles(contentsOf: options.model)
            let half = model.graph.widenHalfPrecision(opset: model.opset)
            var loaded = LoadedModel(model: model, format: .onnx, path: options.model, architecture: nil)
            loaded.dataFiles = dataFiles
            loaded.halfPrecision = half
            // Recognition is best effort: a graph that is not an EfficientNetV2 is still a model to run.
            if let recognized = try? GraphRecognizer.recognize(model.graph),
                let detected = ArchitectureDetector.identify(recognized)
            {
                loaded.architecture = detected.summary
                loaded.defaultSize = detected.architecture.inputSize
            }
            return loaded
        case .npz, .safetensors, .pytorch, .hdf5, .keras:
            return try CheckpointLoader.load(path: options.model, kind: kind, arch: options.arch)
        }
    }

    /// Optimizes `model` with the chosen passes. A symbolic batch stays symbolic; dynamic SAME padding folds into
    /// static convolution padding when the spatial input size is fixed.
    static func optimize(_ model: inout Model, passes: PassOptions) throws -> [PassReportEntry] {
        if passes.noOptimize { return [] }
        let pipeline = try Pipeline.selecting(only: passes.only, skip: passes.skip)
        return try pipeline.run(&model.graph, context: PassContext(opset: model.opset))
    }
}
