// The examples of README's "Using effnet from Swift", verbatim (main.swift checks that they are).
import Effnet

/// The five most probable classes of a photo, from any model file effnet reads.
func topClasses(model: String, image: String) throws -> [Classification] {
    let classifier = try ImageClassifier(contentsOf: model)  // .onnx, .npz, .safetensors, .pth, .h5, .keras
    return try classifier.classify(imageAt: image, top: 5)  // index, label (when known), probability
}

/// A graph's outputs for a batch of one image, on the native runtime alone.
func logits(model: String, pixels: [Float], size: Int) throws -> [Float] {
    let session = try Session(contentsOf: model, inputShapes: ["input": [1, 3, size, size]])
    let outputs = try session.run(["input": Tensor(shape: [1, 3, size, size], floats: pixels)])
    return outputs["output"]!.floats
}
