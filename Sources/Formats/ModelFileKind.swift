/// What kind of model a file holds, judged by its content rather than its extension.
///
/// ZIP archives (`PK\x03\x04`, or `PK\x05\x06` for an empty archive) are `.npz` checkpoints, unless their members
/// say otherwise: a `data.pkl` member makes a PyTorch `torch.save` archive, a `model.weights.h5` member a `.keras`
/// file. A pickle stream (`\x80` and a protocol byte) is a legacy `torch.save` file, the HDF5 signature a Keras `.h5`
/// or `.weights.h5` file, an 8-byte length followed by `{` a safetensors file. Anything else that is not empty and
/// not a Git LFS pointer is taken to be an ONNX protobuf, which `ONNXReader` then parses (protobuf has no magic
/// number, so only parsing can tell a real model from garbage).
public enum ModelFileKind: String, Sendable, CustomStringConvertible {
    case onnx
    case npz
    case safetensors
    /// `torch.save` output, zip or legacy.
    case pytorch
    /// Keras HDF5 weights: legacy `.h5` or Keras 3 `.weights.h5`.
    case hdf5
    /// A Keras 3 `.keras` archive.
    case keras

    public var description: String { rawValue }

    /// Sniffs the first bytes of `path`.
    public static func detect(path: String) throws -> ModelFileKind {
        let file: InputFile
        let prefix: [UInt8]
        do {
            file = try InputFile(path: path)
            prefix = try file.read(offset: 0, count: min(file.size, FileSignature.prefixLength))
        } catch {
            throw ModelFileError.cannotOpen(path: path, reason: error.reason)
        }
        switch FileSignature(prefix: prefix) {
        case .empty: throw ModelFileError.empty(path: path)
        case .gitLFSPointer: throw ModelFileError.gitLFSPointer(path: path)
        case .zip: return zipKind(file)
        case .pickle: return .pytorch
        case .hdf5: return .hdf5
        case .other: return Safetensors.looksLike(prefix, fileSize: file.size) ? .safetensors : .onnx
        }
    }

    /// A ZIP archive's kind by its member names; `.npz` when the directory cannot be read (the NPZ reader then
    /// reports why).
    static func zipKind(_ file: InputFile) -> ModelFileKind {
        let names = (try? file.withMappedBytes { try ZipDirectory(archive: $0, file: file.path).entries.map(\.name) }) ?? []
        if names.contains(where: { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }) { return .pytorch }
        if names.contains("model.weights.h5") { return .keras }
        return .npz
    }
}

/// Why a model file's kind could not be determined.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case empty(path: String)
    case gitLFSPointer(path: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "\(path): cannot open: \(reason)"
        case .empty(let path): "\(path): the file is empty, not a model"
        case .gitLFSPointer(let path): "\(path): is a Git LFS pointer, not the model; run `git lfs pull`"
        }
    }
}

/// The content classes that matter before parsing: files a protobuf parser would misreport.
enum FileSignature: Equatable {
    case empty
    case gitLFSPointer
    case zip
    case pickle
    case hdf5
    case other

    /// Bytes needed to tell the classes apart.
    static let prefixLength = 64

    private static let lfsHeader = Array("version https://git-lfs.github.com/spec/v1".utf8)

    init(prefix: some Collection<UInt8>) {
        let head = Array(prefix.prefix(Self.prefixLength))
        if head.isEmpty {
            self = .empty
        } else if head.starts(with: Self.lfsHeader) {
            self = .gitLFSPointer
        } else if head.starts(with: [0x50, 0x4b, 0x03, 0x04]) || head.starts(with: [0x50, 0x4b, 0x05, 0x06]) {
            self = .zip
        } else if head.count >= 2, head[0] == 0x80, (1...5).contains(head[1]) {
            self = .pickle
        } else if head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]) {
            self = .hdf5
        } else {
            self = .other
        }
    }
}
