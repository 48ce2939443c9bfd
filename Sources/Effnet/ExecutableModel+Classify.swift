import IR
import Imaging

extension ExecutableModel {
    /// The preprocessing the model states for itself, before any flag: `preset` if given, else the checkpoint's
    /// framework's, else the one an ONNX file's effnet metadata records, else `keras` for NHWC input and
    /// `torchvision` otherwise; then what the recorded metadata (when the preset came from it or was defaulted)
    /// and `config` (a timm config.json beside the model) say about crop, filter, mean and std.
    package func preprocessing(preset: String?, config: ModelPreprocessing?) throws -> Preprocessing {
        let recorded = ModelPreprocessing.fromMetadata(loaded.model.metadata, path: loaded.path)
        var prep = try Preprocessing.preset(
            name: preset ?? loaded.preset ?? recorded?.preset ?? (channelsLast ? "keras" : "torchvision"), size: size)
        if preset == nil && loaded.preset == nil { recorded?.prep.apply(to: &prep) }
        if preset == nil { loaded.architecturePreprocessing?.apply(to: &prep) }
        config?.apply(to: &prep)
        prep.layout = channelsLast ? .nhwc : .nchw
        return prep
    }

    /// Whether the graph ends in `Softmax` (its output already holds probabilities).
    package var endsInSoftmax: Bool { loaded.model.graph.nodes.last?.opType == "Softmax" }

    /// The model's first output for a batch of preprocessed images, checked to be [batch, classes].
    package func logits(_ images: Tensor, path: String) throws -> Tensor {
        let outputs = try session.run([inputName: images])
        let outputName = loaded.model.graph.outputs[0].name
        guard var logits = outputs[outputName], logits.rank == 2,
            logits.shape[0] == images.shape[0]
        else {
            throw ModelUseError.reference(path: path, message: "the model's output is not [batch, classes]")
        }
        // A half-precision model's output holds what its declared type can (computed in float32).
        if let half = loaded.halfOutputs[outputName] { logits = logits.rounded(to: half) }
        return logits
    }
}
