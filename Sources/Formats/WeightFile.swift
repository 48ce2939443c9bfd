/// Reads the named tensors of any checkpoint kind effnet accepts (everything but ONNX).
public enum WeightFile {
    /// The tensors of the checkpoint at `path`, whose kind `ModelFileKind.detect` found, in the file's order.
    public static func read(contentsOf path: String, kind: ModelFileKind) throws -> [NamedTensor] {
        switch kind {
        case .npz: return try NPZ.read(contentsOf: path)
        case .safetensors: return try Safetensors.read(contentsOf: path)
        case .pytorch: return try TorchCheckpoint.read(contentsOf: path)
        case .hdf5: return try KerasH5.read(contentsOf: path)
        case .keras: return try KerasH5.readArchive(contentsOf: path)
        default:
            throw WeightFileError.unsupported(file: path, detail: "\(kind) files are not read as checkpoints")
        }
    }
}
