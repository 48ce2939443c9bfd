import Formats
import IR
import Imaging
import Models

/// Turns a checkpoint (`.npz`, safetensors, PyTorch, Keras HDF5) into a runnable model: detect the naming scheme and variant (or take `--arch`),
/// check every tensor against the expected structure, and build the graph.
enum CheckpointLoader {
    static func load(path: String, kind: ModelFileKind, arch: String?) throws -> LoadedModel {
        let arrays = try WeightFile.read(contentsOf: path, kind: kind)
        let checkpoint = Checkpoint(tensors: arrays.map { ($0.name, $0.tensor) })
        // A timm config.json beside the weights names the architecture (unless --arch does).
        let config = TimmConfig.beside(path)
        // A Keras model config (the .keras archive's own, or one beside a HDF5 file) does too.
        let kerasConfig = try KerasConfig.of(path, kind: kind)
        let architecture: Architecture?
        if let arch {
            architecture = try Architecture.resolve(arch)
        } else if let kerasArch = kerasConfig?.architecture, let kerasConfig {
            architecture = try CheckpointFileError.naming(kerasConfig.path) { try Architecture.resolve(kerasArch) }
        } else if let config {
            architecture = try CheckpointFileError.naming(config.path) { try Architecture.resolve(config.architecture) }
        } else {
            architecture = nil
        }
        // The weights alone may fit a config's architecture at custom widths and depths; the variant they are
        // detected as must still be the one the config names.
        if arch == nil, let kerasConfig, let name = kerasConfig.architecture,
            let auto = try? ArchitectureDetector.detect(checkpoint, architecture: nil),
            auto.architecture.name != name, !auto.alternatives.contains(name)
        {
            throw KerasConfig.ConfigError(
                path: kerasConfig.path, problem: "names \(name), but the weights in \(path) are \(auto.architecture.name)")
        }
        let (graph, detected): (Graph, DetectedModel)
        do {
            (graph, detected) = try GraphBuilder.build(checkpoint, architecture: architecture)
        } catch {
            // The config chose the architecture: the config is what disagrees with the weights.
            if arch == nil, let kerasConfig, let name = kerasConfig.architecture {
                throw KerasConfig.ConfigError(
                    path: kerasConfig.path, problem: "names \(name), which the weights in \(path) do not match: \(error)")
            }
            throw CheckpointFileError(path: path, underlying: error)
        }
        var model = GraphBuilder.model(graph, detected: detected)
        // The builder pads TF "SAME" convolutions with auto_pad, so the graph holds at any input size: leave the
        // spatial dims symbolic and let each use bind them (verify to its reference, run and bench to --size or
        // the architecture's resolution).
        if var dims = model.graph.inputs.first?.shape, dims.count == 4 {
            let spatial = (detected.architecture.channelsLast ? Layout.nhwc : .nchw).spatialAxes
            dims[spatial[0]] = .symbol("H")
            dims[spatial[1]] = .symbol("W")
            model.graph.inputs[0].shape = dims
        }
        let a = detected.architecture
        let preset: String
        switch a.scheme {
        case .keras: preset = "keras"
        case .torchvision: preset = "torchvision"
        case .timm, .efficientnetPytorch: preset = a.normalization == .half ? "timm-tf" : "timm"
        }
        var loaded = LoadedModel(
            model: model, format: LoadedModel.Format(rawValue: kind.rawValue) ?? .npz, path: path, architecture: detected.summary, defaultSize: a.inputSize,
            preset: preset)
        if a.family != .efficientnetV2 {
            // EfficientNet (V1) and Lite run with their framework's evaluation crop and filter (timm
            // `pretrained_cfg`, torchvision's weight transforms), not the preset's generic ones.
            loaded.architecturePreprocessing = ModelPreprocessing(
                cropPct: a.cropPct, interpolation: Interpolation(rawValue: a.interpolation),
                mean: a.normalization.mean, std: a.normalization.std, source: path)
        }
        if let config {
            loaded.config = config
            loaded.defaultSize = try ModelPreprocessing.beside(model: path)?.size ?? loaded.defaultSize
        }
        if let size = kerasConfig?.inputSize { loaded.defaultSize = size }
        return loaded
    }
}

/// Checkpoint errors with the file named in front, as every error line is.
package struct CheckpointFileError: Error, CustomStringConvertible {
    package var path: String
    package var underlying: Error

    package var description: String { "\(path): \(underlying)" }

    package static func naming<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw CheckpointFileError(path: path, underlying: error)
        }
    }
}
