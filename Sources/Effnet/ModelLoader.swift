import Formats
import Foundation
import IR
import Models
import Optimizer

/// A model as read: the IR model plus where it came from and what effnet learnt about it.
package struct LoadedModel {
    package enum Format: String, CaseIterable, Sendable {
        case onnx, npz, safetensors, pytorch, hdf5, keras

        /// A weight checkpoint (built into a graph by effnet), not an ONNX graph.
        package var isCheckpoint: Bool { self != .onnx }
    }

    package var model: Model
    package var format: Format
    package var path: String
    /// The detected (or `--arch`) architecture name, when known.
    package var architecture: String?
    /// The architecture's default (evaluation) input resolution, when known.
    package var defaultSize: Int? = nil
    /// The preprocessing preset the source framework uses, when known (`timm`, `timm-tf`, `torchvision`, `keras`).
    package var preset: String? = nil
    /// The half-precision dtype of a float16/bfloat16 ONNX model, whose weights were widened to float32 at load.
    package var halfPrecision: DType? = nil
    /// The outputs of a half-precision model that hold half values in the file's terms (`halfPrecisionOutputs`).
    package var halfOutputs: [String: DType] = [:]
    /// Preprocessing the checkpoint's architecture states (crop, filter, mean, std), applied over the preset when
    /// `--preset` is not given (EfficientNet V1 and Lite checkpoints).
    package var architecturePreprocessing: ModelPreprocessing? = nil
    /// The timm config.json beside a checkpoint, when there is one (architecture, preprocessing).
    var config: TimmConfig? = nil
    /// External data files the model's tensors were read from (an output must never replace one).
    package var dataFiles: [String] = []
}

/// Errors about how a model was asked to be used (file contents errors come from the readers).
package enum ModelUseError: Error, CustomStringConvertible {
    case unknownInputSize(path: String, input: String)
    case fixedInputSize(path: String, input: String, size: [Int])
    case notAnImageModel(path: String)
    case reference(path: String, message: String)

    package var description: String {
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

/// Which optimizer passes to run: all (`standard`), none, or a selection by name.
package struct PassSelection: Sendable {
    package var optimize = true
    package var only: [String]? = nil
    package var skip: [String] = []

    package init(optimize: Bool = true, only: [String]? = nil, skip: [String] = []) {
        self.optimize = optimize
        self.only = only
        self.skip = skip
    }

    /// Every standard pass, as `Pipeline.standard` runs them.
    package var isStandard: Bool { optimize && only == nil && skip.isEmpty }

    package static let standard = PassSelection()
    package static let none = PassSelection(optimize: false)
}

extension LoadedModel {
    /// Sets `architecture` and `defaultSize` from `graph` (this model's, as read or optimized) when it is a
    /// recognised EfficientNet; leaves them as they are otherwise.
    mutating func identify(_ graph: Graph) {
        guard let recognized = try? GraphRecognizer.recognize(graph),
            let detected = ArchitectureDetector.identify(recognized)
        else { return }
        architecture = detected.summary
        defaultSize = detected.architecture.inputSize
    }
}

package enum ModelLoader {
    /// Reads an ONNX model or a checkpoint (`.npz`, safetensors, PyTorch, Keras) at `path`, the kind chosen by
    /// content; `arch` names a checkpoint's architecture (refused for ONNX, which fixes its own).
    package static func load(path: String, arch: String?) throws -> LoadedModel {
        let kind = try ModelFileKind.detect(path: path)
        switch kind {
        case .onnx:
            // An ONNX graph fixes its own architecture; silently ignoring --arch would mislead.
            if let arch {
                throw ModelUseError.reference(
                    path: path,
                    message: "--arch \(arch) applies only to checkpoints; an ONNX graph fixes its own architecture")
            }
            var (model, dataFiles) = try ONNXReader.readWithDataFiles(contentsOf: path)
            let half = model.graph.widenToFloat32(opset: model.opset)
            var loaded = LoadedModel(model: model, format: .onnx, path: path, architecture: nil)
            loaded.dataFiles = dataFiles
            loaded.halfPrecision = half?.dtype
            loaded.halfOutputs = half?.outputs ?? [:]
            // Recognition is best effort: a graph that is not an EfficientNet is still a model to run.
            loaded.identify(model.graph)
            return loaded
        case .npz, .safetensors, .pytorch, .hdf5, .keras:
            return try CheckpointLoader.load(path: path, kind: kind, arch: arch)
        }
    }

    /// Names the architecture of an ONNX model that named none as read, from `optimized`, its graph after the
    /// standard passes: an exporter that writes BatchNorm as arithmetic, Casts and NHWC Transposes around every
    /// block (Keras 3's `model.export(format="onnx")`) leaves a graph that is an EfficientNet only once the
    /// optimizer has brought it to the standard form. `optimized` nil: the standard passes are run on a copy.
    package static func identifyOptimized(_ loaded: inout LoadedModel, optimized: Graph? = nil) {
        guard loaded.format == .onnx, loaded.architecture == nil else { return }
        if let optimized {
            loaded.identify(optimized)
            return
        }
        var copy = loaded.model
        guard (try? optimize(&copy, passes: .standard)) != nil else { return }
        loaded.identify(copy.graph)
    }

    /// Optimizes `model` with the chosen passes. A symbolic batch stays symbolic; dynamic SAME padding folds into
    /// static convolution padding when the spatial input size is fixed.
    package static func optimize(_ model: inout Model, passes: PassSelection) throws -> [PassReportEntry] {
        if !passes.optimize { return [] }
        let pipeline = try Pipeline.selecting(only: passes.only, skip: passes.skip)
        return try pipeline.run(&model.graph, context: PassContext(opset: model.opset))
    }
}
